using ILGPU;

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

/// <summary>
/// rms_norm fused with 8-bit quantization (int8 or FP8 E4M3), one C# source for CUDA, OpenCL and the CPU accelerator.
/// </summary>
/// <remarks>
/// The layout is <see cref="RmsNormKernel"/>'s (scalar loads): <c>ThreadsPerRow</c> threads per segment,
/// <c>RowsPerGroup</c> segments per group, the grid striding over segments. Per segment:
/// <list type="number">
/// <item>per-thread sums of squares in a fixed order, then the fixed tree of <see cref="GroupTree"/> (as the plain kernel);</item>
/// <item>each thread computes its values v = clamp(x / sqrt(mean + eps) · w) in float32 and their largest |v|
/// (NaN ignored), reduced by a second fixed tree (max is exact, so the order does not even matter);</item>
/// <item>scale = the static scale, or max(amax / qmax, min scale); lane 0 writes it; every thread writes
/// encode(v / scale), recomputing v rather than keeping it.</item>
/// </list>
/// Static shared arrays only (see <see cref="RmsNormKernel.MaxGroupSize"/>); no early returns; no atomics.
/// </remarks>
internal static class RmsNormQuantKernel
{
    public static void Run<T, TAcc, TCodec, TFormat>(
        ArrayView<T> input,
        ArrayView<T> weight,
        ArrayView<byte> output,
        ArrayView<float> scales,
        QuantKernelParams p)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<T, TAcc>
        where TFormat : struct, IQuantFormat
    {
        TCodec codec = default;
        TFormat format = default;
        var partials = SharedMemory.Allocate<TAcc>(RmsNormKernel.MaxGroupSize);
        var maxima = SharedMemory.Allocate<float>(RmsNormKernel.MaxGroupSize);
        int tid = Group.IdxX;
        int slot = tid / p.ThreadsPerRow;
        int lane = tid - slot * p.ThreadsPerRow;
        int n = p.SegmentLength;
        int segmentsPerPass = Grid.DimX * p.RowsPerGroup;

        for (int first = Grid.IdxX * p.RowsPerGroup; first < p.Segments; first += segmentsPerPass)
        {
            // Phase 1: per-thread sums of squares in a fixed order: the plain kernel's loop, over one-element packets.
            int segment = first + slot;
            bool active = segment < p.Segments;
            long offset = (long)segment * n;
            TAcc acc = default;
            if (active)
            {
                var packets = input.Cast<Packet1<T>>();
                acc = RmsNormKernel.Sum<T, TAcc, TCodec, Packet1<T>>(packets, offset, packets, offset, 0, lane, n, p.ThreadsPerRow);
            }

            // Phase 2: fixed-order tree reduction of the sums.
            TAcc total = GroupTree.Reduce(default(CodecSum<T, TAcc, TCodec>), partials, acc, tid, lane, p.ThreadsPerRow, p.WarpShuffle);

            // Phase 3: the values and their largest magnitude (NaN never wins a comparison, so it is ignored).
            TAcc denominator = codec.Denominator(total, n, p.Epsilon);
            long weightOffset = (long)(segment % p.WeightGroups) * n;
            float amax = 0f;
            if (active)
            {
                for (int i = lane; i < n; i += p.ThreadsPerRow)
                {
                    T x = input[offset + i];
                    T w = p.HasWeight != 0 ? weight[weightOffset + i] : x;
                    float v = Clamp(codec.Value(x, denominator, w, p.HasWeight), p.Clamp);
                    float a = Math.Abs(v);
                    amax = a > amax ? a : amax;
                }
            }

            float segmentMax = GroupTree.Reduce(default(MaxOfMagnitudes), maxima, amax, tid, lane, p.ThreadsPerRow, p.WarpShuffle);

            // Phase 4: the scale, then the codes.
            if (active)
            {
                float dynamic = segmentMax / format.QMax;
                dynamic = dynamic > format.MinScale ? dynamic : format.MinScale;
                float scale = p.StaticScale > 0f ? p.StaticScale : dynamic;
                if (lane == 0 && p.WriteScales != 0)
                {
                    scales[segment] = scale;
                }

                for (int i = lane; i < n; i += p.ThreadsPerRow)
                {
                    T x = input[offset + i];
                    T w = p.HasWeight != 0 ? weight[weightOffset + i] : x;
                    float v = Clamp(codec.Value(x, denominator, w, p.HasWeight), p.Clamp);
                    output[offset + i] = format.Encode(v / scale);
                }
            }

            // The shared arrays are reused by the next pass.
            Group.Barrier();
        }
    }

    /// <summary>The larger magnitude (a NaN never wins: the comparison is false).</summary>
    private readonly struct MaxOfMagnitudes : ITreeOp<float>
    {
        public float Combine(float mine, float other) => other > mine ? other : mine;
    }

    /// <summary>v clamped to [-clamp, clamp]; NaN stays NaN (both comparisons are false); branch-free.</summary>
    internal static float Clamp(float v, float clamp)
    {
        float c = v > clamp ? clamp : v;
        return c < -clamp ? -clamp : c;
    }
}
