using System.Runtime.CompilerServices;
using ILGPU;

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

/// <summary>
/// The rms_norm kernel, one C# source for CUDA, OpenCL and ILGPU's CPU accelerator.
/// </summary>
/// <remarks>
/// The views hold packets of K consecutive elements (<see cref="IPacket{T, TSelf}"/>; K = 1 is the scalar kernel), so
/// that each thread moves 16 bytes per load and store where the data's alignment allows. A group of
/// <c>ThreadsPerRow * RowsPerGroup</c> threads works on <c>RowsPerGroup</c> segments at once (one segment per
/// group when <c>RowsPerGroup = 1</c>, several short rows per group otherwise) and strides over the grid until
/// all segments are done. Per segment:
/// <list type="number">
/// <item>each thread sums the squares of packets lane, lane + ThreadsPerRow, … in that order, in blocks of
/// <see cref="BlockLength"/> packets whose sums are then added up (two-level summation keeps long rows accurate);</item>
/// <item>the partial sums are reduced by a fixed binary tree (no atomics; <see cref="GroupTree"/>: shared memory, and on
/// CUDA warp shuffles for the last five levels, in the same pairing), so the result depends only on the segment's data,
/// K and <c>ThreadsPerRow</c>, never on the batch size or the backend;</item>
/// <item>every thread writes its elements as x / sqrt(mean + eps), times the weight (the plain path), or under a
/// policy with the weight offset and bias (<see cref="IRmsCodec{T, TAcc}.Apply{TSteps}"/>).</item>
/// </list>
/// With a residual (the fused add), phase 1 first writes residual = (T)(x + residual) and sums the squares of that
/// rounded sum; phase 3 normalizes it, reading back the packets the same thread wrote. Rows may be strided
/// (<see cref="RmsNormKernelParams.InputRowStride"/> and the others, in packets); elements between rows are never touched.
/// The kernel checks nothing and allocates nothing: the public API validated the arguments and the
/// launch plan chose the configuration. A packet is processed by straight-line code (<see cref="IPacket{T, TSelf}.Map{TOp}"/>,
/// <see cref="IPacket{T, TSelf}.Fold{TAcc, TOp}"/>): no lane index is ever dynamic, so no jump table is generated.
/// </remarks>
internal static class RmsNormKernel
{
    /// <summary>Packets summed per thread before the block sum joins the thread's total.</summary>
    internal const int BlockLength = 16;

    /// <summary>
    /// The largest group the plan makes, and the number of partial sums in the group's shared memory (8 KiB of
    /// compensated float32, 16 KiB of compensated float64 partials). The array is static, not dynamic: ILGPU 1.5.3's OpenCL backend keeps a
    /// dynamic shared-memory pointer in a program-scope variable that groups running at once on a multi-core
    /// OpenCL CPU device overwrite (wrong rows on PoCL), and cannot size a dynamic array of a struct such as
    /// <see cref="CompensatedSum"/> (it emits <c>()16</c>). A static array is declared inside the kernel.
    /// </summary>
    internal const int MaxGroupSize = 1024;

    public static void Run<T, TAcc, TCodec, TPacket>(
        ArrayView<TPacket> input,
        ArrayView<TPacket> residual,
        ArrayView<TPacket> weight,
        ArrayView<TPacket> bias,
        ArrayView<TPacket> output,
        RmsNormKernelParams p)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<T, TAcc>
        where TPacket : unmanaged, IPacket<T, TPacket>
    {
        TCodec codec = default;
        var partials = SharedMemory.Allocate<TAcc>(MaxGroupSize);
        int tid = Group.IdxX;
        int slot = tid / p.ThreadsPerRow;
        int lane = tid - slot * p.ThreadsPerRow;
        int n = p.SegmentLength;
        int packets = n / default(TPacket).Count;
        int segmentsPerPass = Grid.DimX * p.RowsPerGroup;
        int rowPackets = p.WeightGroups * packets;
        long inputStride = p.InputRowStride == 0 ? rowPackets : p.InputRowStride;
        long outputStride = p.OutputRowStride == 0 ? rowPackets : p.OutputRowStride;
        long residualStride = p.ResidualRowStride == 0 ? rowPackets : p.ResidualRowStride;

        for (int first = Grid.IdxX * p.RowsPerGroup; first < p.Segments; first += segmentsPerPass)
        {
            // Phase 1: per-thread partial sums of squares, in a fixed order.
            int segment = first + slot;
            bool active = segment < p.Segments;
            int row = segment / p.WeightGroups;
            long inGroup = (long)(segment - row * p.WeightGroups) * packets;
            long offset = row * inputStride + inGroup;
            long outputOffset = row * outputStride + inGroup;
            long residualOffset = row * residualStride + inGroup;
            TAcc acc = default;
            if (active)
            {
                acc = p.HasResidual != 0
                    ? Sum<T, TAcc, TCodec, TPacket>(input, offset, residual, residualOffset, 1, lane, packets, p.ThreadsPerRow)
                    : Sum<T, TAcc, TCodec, TPacket>(input, offset, residual, residualOffset, 0, lane, packets, p.ThreadsPerRow);
            }

            // Phase 2: fixed-order tree reduction over the threads of each segment.
            TAcc total = GroupTree.Reduce(default(CodecSum<T, TAcc, TCodec>), partials, acc, tid, lane, p.ThreadsPerRow, p.WarpShuffle);

            // Phase 3: normalize and scale, one loop per epilogue (uniform branches outside the loops, none inside).
            // With the fused add each thread reads back the residual packets it wrote in phase 1.
            if (active)
            {
                TAcc denominator = codec.Denominator(total, n, p.Epsilon);
                long weightOffset = (long)(segment % p.WeightGroups) * packets;
                if (p.Plain != 0)
                {
                    if (p.HasWeight != 0)
                    {
                        Write<T, TPacket, NormalizeMap<T, TAcc, TCodec>>(
                            new(denominator, 1), input, offset, residual, residualOffset, p.HasResidual, weight, bias, weightOffset, 1, 0, output, outputOffset, lane, packets, p.ThreadsPerRow);
                    }
                    else
                    {
                        Write<T, TPacket, NormalizeMap<T, TAcc, TCodec>>(
                            new(denominator, 0), input, offset, residual, residualOffset, p.HasResidual, weight, bias, weightOffset, 0, 0, output, outputOffset, lane, packets, p.ThreadsPerRow);
                    }
                }
                else if (p.Policy == (int)RmsNormPolicy.InputDtype)
                {
                    // One reciprocal per row; the elements are multiplied by it.
                    Write<T, TPacket, PolicyMap<T, TAcc, TCodec, InputDtypeSteps>>(
                        new(codec.Reciprocal(denominator), p.HasWeight, p.HasBias, p.WeightOffset),
                        input, offset, residual, residualOffset, p.HasResidual, weight, bias, weightOffset, p.HasWeight, p.HasBias, output, outputOffset, lane, packets, p.ThreadsPerRow);
                }
                else if (p.Policy == (int)RmsNormPolicy.WeightInFloat32)
                {
                    Write<T, TPacket, PolicyMap<T, TAcc, TCodec, WeightInFloat32Steps>>(
                        new(denominator, p.HasWeight, p.HasBias, p.WeightOffset),
                        input, offset, residual, residualOffset, p.HasResidual, weight, bias, weightOffset, p.HasWeight, p.HasBias, output, outputOffset, lane, packets, p.ThreadsPerRow);
                }
                else
                {
                    Write<T, TPacket, PolicyMap<T, TAcc, TCodec, TensorRtLlmSteps>>(
                        new(denominator, p.HasWeight, p.HasBias, p.WeightOffset),
                        input, offset, residual, residualOffset, p.HasResidual, weight, bias, weightOffset, p.HasWeight, p.HasBias, output, outputOffset, lane, packets, p.ThreadsPerRow);
                }
            }

            // The partials are reused by the next pass.
            Group.Barrier();
        }
    }

    /// <summary>
    /// The thread's sum of squares over packets lane, lane + step, … in blocks of <see cref="BlockLength"/>; with
    /// <paramref name="hasResidual"/> (a constant at each call, so each variant is its own loop) of residual = (T)(x + residual),
    /// which it writes back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TAcc Sum<T, TAcc, TCodec, TPacket>(ArrayView<TPacket> input, long offset, ArrayView<TPacket> residual, long residualOffset, int hasResidual, int lane, int packets, int step)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<T, TAcc>
        where TPacket : unmanaged, IPacket<T, TPacket>
    {
        TAcc acc = default;
        int i = lane;
        while (i < packets)
        {
            TAcc block = default;
            for (int k = 0; k < BlockLength && i < packets; k++, i += step)
            {
                TPacket x = input[offset + i];
                if (hasResidual != 0)
                {
                    // The fused add: the rounded sum goes back to the residual and is what gets normalized.
                    TPacket r = residual[residualOffset + i];
                    TPacket sum = default;
                    sum.Map(default(ResidualAddMap<T, TAcc, TCodec>), x, r, r);
                    residual[residualOffset + i] = sum;
                    x = sum;
                }

                block = x.Fold(default(SquareFold<T, TAcc, TCodec>), block);
            }

            acc = default(TCodec).Add(acc, block);
        }

        return acc;
    }

    /// <summary>
    /// output[i] = op(x[i], weight[i], bias[i]) for the thread's packets, x being the input or, with the fused add, the
    /// residual; the weight and bias are read only when their flag is 1. The source is chosen per load, not as a view
    /// chosen once: ILGPU proves the 16-byte alignment of a kernel parameter's view, not of a view picked from two.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Write<T, TPacket, TOp>(
        TOp op,
        ArrayView<TPacket> input,
        long offset,
        ArrayView<TPacket> residual,
        long residualOffset,
        int hasResidual,
        ArrayView<TPacket> weight,
        ArrayView<TPacket> bias,
        long weightOffset,
        int loadWeight,
        int loadBias,
        ArrayView<TPacket> output,
        long outputOffset,
        int lane,
        int packets,
        int step)
        where T : unmanaged
        where TPacket : unmanaged, IPacket<T, TPacket>
        where TOp : struct, ILaneMap<T>
    {
        for (int i = lane; i < packets; i += step)
        {
            TPacket x = hasResidual != 0 ? residual[residualOffset + i] : input[offset + i];
            TPacket w = default;
            TPacket b = default;
            if (loadWeight != 0)
            {
                w = weight[weightOffset + i];
            }

            if (loadBias != 0)
            {
                b = bias[weightOffset + i];
            }

            TPacket y = default;
            y.Map(op, x, w, b);
            output[outputOffset + i] = y;
        }
    }
}
