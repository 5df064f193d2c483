namespace IlgpuNorm.Kernels;

/// <summary>
/// The scalar arguments of <see cref="RmsNormQuantKernel"/>: those it shares with <see cref="RmsNormKernelParams"/> mean the
/// same; <c>StaticScale</c> is the static scale or 0 for dynamic per-segment scales, <c>Clamp</c> the clamp or +Inf for
/// none, <c>WriteScales</c> 1 to write each segment's scale.
/// </summary>
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
    public int WarpShuffle { get; init; }
}
