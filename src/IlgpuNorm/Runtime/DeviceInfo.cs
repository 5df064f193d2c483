namespace IlgpuNorm;

/// <summary>A device the dispatcher found, with the capabilities it ranks by and reports.</summary>
/// <param name="Kind">The backend.</param>
/// <param name="Index">The index among devices of that backend.</param>
/// <param name="Name">The device's name.</param>
/// <param name="IsGpu">Whether it is a GPU (OpenCL devices may be CPUs).</param>
/// <param name="MemoryBytes">Device memory in bytes (0 when unknown).</param>
/// <param name="MaxGroupSize">Most threads per group (0 for the host path).</param>
/// <param name="WarpSize">Warp or SIMD width.</param>
/// <param name="SupportsFloat16">Whether the device has native fp16 arithmetic (IlgpuNorm's kernels carry fp16 as bits either way).</param>
/// <param name="Detail">How it was found and anything else worth reporting.</param>
public sealed record DeviceInfo(
    DeviceKind Kind,
    int Index,
    string Name,
    bool IsGpu,
    long MemoryBytes,
    int MaxGroupSize,
    int WarpSize,
    bool SupportsFloat16,
    string Detail)
{
    /// <summary>The request that selects exactly this device.</summary>
    public DeviceRequest Request => new(Kind, Index);

    /// <inheritdoc />
    public override string ToString() => $"{Request} ({Name})";
}
