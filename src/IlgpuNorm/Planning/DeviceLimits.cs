namespace IlgpuNorm.Planning;

/// <summary>What the launch plan needs to know about an accelerator; plain data so the plan is testable without one.</summary>
/// <param name="MaxGroupSize">Most threads in one group.</param>
/// <param name="WarpSize">Threads per warp (SIMD width).</param>
/// <param name="Multiprocessors">Number of multiprocessors (groups that run at once, per wave).</param>
/// <param name="MaxThreadsPerMultiprocessor">Resident threads per multiprocessor.</param>
/// <param name="IsSimulator">True for CPU-like devices: ILGPU's CPU accelerator (every thread an OS thread, barriers expensive) and OpenCL CPU devices such as PoCL (a group runs on one core).</param>
internal readonly record struct DeviceLimits(
    int MaxGroupSize,
    int WarpSize,
    int Multiprocessors,
    int MaxThreadsPerMultiprocessor,
    bool IsSimulator)
{
    /// <summary>True where the kernels may reduce within a warp with shuffles: CUDA (ILGPU 1.5.3 maps OpenCL shuffles for Intel devices only).</summary>
    public bool HasWarpShuffle { get; init; }
}
