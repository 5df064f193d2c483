namespace IlgpuNorm.Kernels;

/// <summary>The scalar arguments of <see cref="RmsNormKernel"/>; built by the launch plan.</summary>
/// <param name="SegmentLength">Elements per segment (the normalized size, or C / num_groups).</param>
/// <param name="Segments">Number of segments in the call.</param>
/// <param name="WeightGroups">num_groups: segment s is group (s % WeightGroups) of row (s / WeightGroups) and uses the weight slice at (s % WeightGroups) * SegmentLength.</param>
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
    double Epsilon)
{
    /// <summary>Packets from one row's start to the next in the input; 0 means contiguous rows (WeightGroups * SegmentLength / width).</summary>
    public int InputRowStride { get; init; }

    /// <summary>Packets from one row's start to the next in the output; 0 means contiguous rows.</summary>
    public int OutputRowStride { get; init; }

    /// <summary>Packets from one row's start to the next in the residual; 0 means contiguous rows.</summary>
    public int ResidualRowStride { get; init; }

    /// <summary>1 for the fused residual add: residual = (T)(x + residual) in place, and the norm of that.</summary>
    public int HasResidual { get; init; }

    /// <summary>1 to add the bias after the weight.</summary>
    public int HasBias { get; init; }

    /// <summary>The rounding policy, an <see cref="RmsNormPolicy"/> value.</summary>
    public int Policy { get; init; }

    /// <summary>Added to every weight element in float32 (Gemma: 1).</summary>
    public float WeightOffset { get; init; }

    /// <summary>The warp size when the last levels of the sum tree use warp shuffles (CUDA), 0 for shared memory only (<see cref="GroupTree"/>; the launch plan's <see cref="Planning.LaunchPlan.WarpShuffle"/>).</summary>
    public int WarpShuffle { get; init; }

    /// <summary>1 when the call uses only the original epilogue (TensorRtLlm policy, no offset, no bias): the fast path.</summary>
    public int Plain => Policy == (int)RmsNormPolicy.TensorRtLlm && WeightOffset == 0 && HasBias == 0 ? 1 : 0;
}
