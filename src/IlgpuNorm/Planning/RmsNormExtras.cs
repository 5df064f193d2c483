namespace IlgpuNorm.Planning;

/// <summary>
/// The parts of a call beyond the plain contiguous norm: the policy, the weight offset and the row strides (in elements;
/// each at least the problem's normalized length, the row length).
/// </summary>
internal readonly record struct RmsNormExtras(RmsNormPolicy Policy, float WeightOffset, int InputRowStride, int OutputRowStride, int ResidualRowStride)
{
    /// <summary>Contiguous rows of <paramref name="rowLength"/> elements with the options' policy and offset.</summary>
    public static RmsNormExtras Contiguous(int rowLength, RmsNormOptions options) =>
        new(options.Policy, options.WeightOffset, rowLength, rowLength, rowLength);

    /// <summary>Elements a buffer with <paramref name="stride"/> spans for <paramref name="problem"/>.</summary>
    public static long Extent(RmsNormProblem problem, int stride) =>
        problem.Rows == 0 ? 0 : (problem.Rows - 1) * stride + problem.NormalizedLength;

    /// <summary>Whether the original fast paths compute this call (no policy, offset or strides).</summary>
    public bool IsPlain(RmsNormProblem problem) =>
        Policy == RmsNormPolicy.TensorRtLlm && WeightOffset == 0 &&
        InputRowStride == problem.NormalizedLength && OutputRowStride == problem.NormalizedLength;
}
