using System.Globalization;
using IlgpuNorm.Benchmarking;
using IlgpuNorm.Cli.Commands;

namespace IlgpuNorm.Cli.Bench;

/// <summary>The validated options of <c>ilgpunorm bench</c>. Parsing is pure apart from the writability check of the output paths.</summary>
internal sealed record BenchOptions
{
    /// <summary>The default --min-time, in seconds.</summary>
    public const double DefaultMinTime = 0.2;

    /// <summary>Shapes run on every backend when no --shape is given: one decode token, a small batch, two prefill-sized batches.</summary>
    public static IReadOnlyList<BenchShape> DefaultShapes { get; } = [new(1, 4096), new(16, 4096), new(4096, 4096), new(1024, 8192)];

    /// <summary>Added to <see cref="DefaultShapes"/> on GPUs only: 512 MiB of float32 x would take minutes to fill and time on a host.</summary>
    public static BenchShape GpuOnlyShape { get; } = new(32768, 4096);

    /// <summary>The shapes given, in order and without repeats; null for the defaults.</summary>
    public IReadOnlyList<BenchShape>? Shapes { get; init; }

    /// <summary>The dtypes, in order and without repeats.</summary>
    public IReadOnlyList<ElementType> Types { get; init; } = [ElementType.Float32];

    /// <summary>The devices asked for by name (auto is resolved later); null for the default set, or when <see cref="AllDevices"/>.</summary>
    public IReadOnlyList<DeviceRequest>? Devices { get; init; }

    /// <summary>Whether <c>--device all</c> was given: every device found, the ILGPU CPU accelerator included.</summary>
    public bool AllDevices { get; init; }

    /// <summary>The least time each measurement runs, in seconds.</summary>
    public double MinTime { get; init; } = DefaultMinTime;

    /// <summary>The full path of the JSON file to write, or null.</summary>
    public string? JsonPath { get; init; }

    /// <summary>The full path of the PNG file to write, or null.</summary>
    public string? PlotPath { get; init; }

    /// <summary>Validates the settings; every failure is a <see cref="UsageException"/> naming the option.</summary>
    /// <param name="settings">The options as typed.</param>
    /// <returns>The options.</returns>
    public static BenchOptions Parse(BenchSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var shapes = settings.Shape is null ? null : ParseShapes(settings.Shape);
        var types = settings.Dtype is null ? [ElementType.Float32] : ParseTypes(settings.Dtype);
        var (devices, all) = settings.Device is null ? (null, false) : ParseDevices(settings.Device);
        double minTime = settings.MinTime is null ? DefaultMinTime : ParseMinTime(settings.MinTime);
        string? json = settings.Json is null ? null : OutputPath.CheckWritable("--json", settings.Json);
        string? plot = null;
        if (settings.Plot is not null)
        {
            if (!settings.Plot.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw new UsageException($"--plot: expected a .png file; got '{settings.Plot}'");
            }

            plot = OutputPath.CheckWritable("--plot", settings.Plot);
        }

        return new BenchOptions
        {
            Shapes = shapes,
            Types = types,
            Devices = devices,
            AllDevices = all,
            MinTime = minTime,
            JsonPath = json,
            PlotPath = plot,
        };
    }

    /// <summary>Parses <c>RxH[,RxH...]</c>.</summary>
    public static List<BenchShape> ParseShapes(string text)
    {
        var shapes = new List<BenchShape>();
        foreach (string part in Items(text))
        {
            if (!BenchShape.TryParse(part, out var shape))
            {
                throw new UsageException(
                    $"--shape: expected ROWSxHIDDEN[,ROWSxHIDDEN...] with positive integers and at most {Array.MaxLength} elements each; got '{text}'");
            }

            if (!shapes.Contains(shape))
            {
                shapes.Add(shape);
            }
        }

        return shapes.Count > 0 ? shapes : throw new UsageException($"--shape: expected ROWSxHIDDEN[,ROWSxHIDDEN...]; got '{text}'");
    }

    /// <summary>Parses <c>f32,f16,bf16,f64</c> (also float32, float16/half, bfloat16, float64/double).</summary>
    public static List<ElementType> ParseTypes(string text)
    {
        var types = new List<ElementType>();
        foreach (string part in Items(text))
        {
            ElementType type = part.ToUpperInvariant() switch
            {
                "F32" or "FLOAT32" or "FLOAT" => ElementType.Float32,
                "F16" or "FLOAT16" or "HALF" => ElementType.Float16,
                "BF16" or "BFLOAT16" => ElementType.BFloat16,
                "F64" or "FLOAT64" or "DOUBLE" => ElementType.Float64,
                _ => throw new UsageException($"--dtype: expected f32|f16|bf16|f64[,...]; got '{text}'"),
            };
            if (!types.Contains(type))
            {
                types.Add(type);
            }
        }

        return types.Count > 0 ? types : throw new UsageException($"--dtype: expected f32|f16|bf16|f64[,...]; got '{text}'");
    }

    /// <summary>Parses <c>all</c>, or a list of <c>auto|host|cpu|opencl|cuda[:N]</c>.</summary>
    public static (List<DeviceRequest>? Devices, bool All) ParseDevices(string text)
    {
        var devices = new List<DeviceRequest>();
        bool all = false;
        foreach (string part in Items(text))
        {
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                all = true;
            }
            else if (DeviceRequest.TryParse(part, out var request))
            {
                if (!devices.Contains(request))
                {
                    devices.Add(request);
                }
            }
            else
            {
                throw new UsageException($"--device: expected auto|host|cpu|opencl|cuda[:N]|all; got '{text}'");
            }
        }

        if (!all && devices.Count == 0)
        {
            throw new UsageException($"--device: expected auto|host|cpu|opencl|cuda[:N]|all; got '{text}'");
        }

        return all ? (null, true) : (devices, false);
    }

    /// <summary>Parses a finite number of seconds &gt; 0.</summary>
    public static double ParseMinTime(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && double.IsFinite(seconds) && seconds > 0
            ? seconds
            : throw new UsageException($"--min-time: expected a number of seconds > 0; got '{text}'");

    private static string[] Items(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
