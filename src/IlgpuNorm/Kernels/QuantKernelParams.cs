namespace IlgpuNorm.Kernels;

/// <summary>The scalar arguments of <see cref="RmsNormQuantKernel"/>.</summary>
/// <param name="SegmentLength">Elements per segment.</param>
/// <param name="Segments">Segments in this launch.</param>
/// <param name="WeightGroups">num_groups: segment s uses the weight slice s % WeightGroups.</param>
/// <param name="ThreadsPerRow">Threads per segment (a power of two).</param>
/// <param name="RowsPerGroup">Segments per group.</param>
/// <param name="HasWeight">1 with a weight, 0 without.</param>
/// <param name="Epsilon">eps.</param>
/// <param name="StaticScale">The static scale, or 0 for dynamic per-segment scales.</param>
/// <param name="Clamp">The clamp, +Inf for none.</param>
/// <param name="WriteScales">1 to write each segment's scale.</param>
internal readonly record struct QuantKernelParams(
    int SegmentLength,
    int Segments,
    int WeightGroups,
    int ThreadsPerRow,
    int RowsPerGroup,
    int HasWeight,
    double Epsilon,
    float StaticScale,
    float Clamp,
    int WriteScales)
{
    /// <summary>The warp size when the trees' last levels use warp shuffles (CUDA), 0 for shared memory only (<see cref="Planning.LaunchPlan.WarpShuffle"/>).</summary>
    public int WarpShuffle { get; init; }
}
