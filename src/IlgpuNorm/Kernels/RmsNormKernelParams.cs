namespace IlgpuNorm.Kernels;

/// <summary>The scalar arguments of <see cref="RmsNormKernel"/>; built by the launch plan.</summary>
/// <param name="SegmentLength">Elements per segment (the normalized size, or C / num_groups).</param>
/// <param name="Segments">Number of segments in the call.</param>
/// <param name="WeightGroups">num_groups: segment s uses the weight slice at (s % WeightGroups) * SegmentLength.</param>
/// <param name="ThreadsPerRow">Threads that reduce one segment (a power of two).</param>
/// <param name="RowsPerGroup">Segments handled side by side by one group.</param>
/// <param name="HasWeight">1 to multiply by the weight, 0 to skip it.</param>
/// <param name="Epsilon">eps (rounded to the accumulator type in the kernel).</param>
internal readonly record struct RmsNormKernelParams(
    int SegmentLength,
    int Segments,
    int WeightGroups,
    int ThreadsPerRow,
    int RowsPerGroup,
    int HasWeight,
    double Epsilon);
