namespace IlgpuNorm.Benchmarking;

/// <summary>One measurement: rms_norm of one shape and dtype on one backend, with that backend's copy limit for the same bytes.</summary>
public sealed record BenchResult
{
    /// <summary>The backend as a device request names it (<see cref="DeviceRequest"/>): host, cpu, opencl[:N], cuda[:N].</summary>
    public required string Backend { get; init; }

    /// <summary>The device's name.</summary>
    public required string Device { get; init; }

    /// <summary>The dtype.</summary>
    public required ElementType Type { get; init; }

    /// <summary>The shape measured (for the ILGPU CPU accelerator, after the row cap).</summary>
    public required BenchShape Shape { get; init; }

    /// <summary>Where x came from: <c>cache</c> (one buffer set), <c>memory</c> (rotating sets), <c>device</c> (device-resident).</summary>
    public required string Data { get; init; }

    /// <summary>How many x/y buffer sets the calls rotated through.</summary>
    public required int BufferSets { get; init; }

    /// <summary>The median time of one call, in seconds.</summary>
    public required double MedianSeconds { get; init; }

    /// <summary>Calls timed (after the warm-up).</summary>
    public required long Iterations { get; init; }

    /// <summary>Timed batches the median is taken over (small calls are timed in batches).</summary>
    public required int Samples { get; init; }

    /// <summary>The copy limit for the same x and y bytes.</summary>
    public required CopyMeasurement Copy { get; init; }

    /// <summary>Bytes one call moves: x read + w read + y written.</summary>
    public long Bytes => ((2 * Shape.Elements) + Shape.Hidden) * ElementTypes.SizeOf(Type);

    /// <summary>Achieved bandwidth in 10⁹ bytes per second.</summary>
    public double Gbps => Bytes / MedianSeconds / 1e9;

    /// <summary>Achieved bandwidth as a percentage of <see cref="Copy"/>.</summary>
    public double PercentOfCopy => 100 * Gbps / Copy.Gbps;
}
