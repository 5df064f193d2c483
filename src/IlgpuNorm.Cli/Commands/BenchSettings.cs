namespace IlgpuNorm.Cli.Commands;

/// <summary>What <c>ilgpunorm bench</c> was given, as typed; <see cref="Bench.BenchOptions.Parse"/> validates it.</summary>
internal sealed record BenchSettings
{
    /// <summary>--shape: <c>RxH[,RxH...]</c>; null for the default shapes.</summary>
    public string? Shape { get; init; }

    /// <summary>--dtype: <c>f32,f16,bf16,f64</c> (any subset); null for f32.</summary>
    public string? Dtype { get; init; }

    /// <summary>--device: <c>auto|host|cpu|opencl|cuda[:N]|all</c> (or a comma-separated list); null for every backend but the ILGPU CPU accelerator.</summary>
    public string? Device { get; init; }

    /// <summary>--json: the file to write the results to, as a JSON array; null for none.</summary>
    public string? Json { get; init; }

    /// <summary>--plot: the PNG chart to write; null for none.</summary>
    public string? Plot { get; init; }

    /// <summary>--min-time: the least time each measurement runs, in seconds; null for the default.</summary>
    public string? MinTime { get; init; }
}
