using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// The rms_norm kernel, one C# source for CUDA, OpenCL and ILGPU's CPU accelerator.
/// </summary>
/// <remarks>
/// The views hold packets of K consecutive elements (<see cref="IPacket{T}"/>; K = 1 is the scalar kernel), so
/// that each thread moves 16 bytes per load and store where the data's alignment allows. A group of
/// <c>ThreadsPerRow * RowsPerGroup</c> threads works on <c>RowsPerGroup</c> segments at once (one segment per
/// group when <c>RowsPerGroup = 1</c>, several short rows per group otherwise) and strides over the grid until
/// all segments are done. Per segment:
/// <list type="number">
/// <item>each thread sums the squares of packets lane, lane + ThreadsPerRow, … in that order, in blocks of
/// <see cref="BlockLength"/> packets whose sums are then added up (two-level summation keeps long rows accurate);</item>
/// <item>the partial sums are reduced in shared memory by a fixed binary tree (no atomics), so the
/// result depends only on the segment's data, K and <c>ThreadsPerRow</c>, never on the batch size;</item>
/// <item>every thread writes its elements as x / sqrt(mean + eps), times the weight (the plain path), or under a
/// policy with the weight offset and bias (<see cref="IRmsCodec{T, TAcc}.Apply"/>).</item>
/// </list>
/// With a residual (the fused add), phase 1 first writes residual = (T)(x + residual) and sums the squares of that
/// rounded sum; phase 3 normalizes it, reading back the packets the same thread wrote. Rows may be strided
/// (<see cref="RmsNormKernelParams.InputRowStride"/> and the others, in packets); elements between rows are never touched.
/// The kernel checks nothing and allocates nothing: the public API validated the arguments and the
/// launch plan chose the configuration.
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
        where TPacket : unmanaged, IPacket<T>
    {
        TCodec codec = default;
        int width = default(TPacket).Count;
        var partials = SharedMemory.Allocate<TAcc>(MaxGroupSize);
        int tid = Group.IdxX;
        int slot = tid / p.ThreadsPerRow;
        int lane = tid - slot * p.ThreadsPerRow;
        int rowBase = slot * p.ThreadsPerRow;
        int n = p.SegmentLength;
        int packets = n / width;
        int segmentsPerPass = Grid.DimX * p.RowsPerGroup;
        int plain = p.Plain;
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
                int i = lane;
                while (i < packets)
                {
                    TAcc block = default;
                    for (int k = 0; k < BlockLength && i < packets; k++, i += p.ThreadsPerRow)
                    {
                        var x = input[offset + i];
                        if (p.HasResidual != 0)
                        {
                            // The fused add: the rounded sum goes back to the residual and is what gets normalized.
                            var r = residual[residualOffset + i];
                            for (int j = 0; j < width; j++)
                            {
                                r.Set(j, codec.AddResidual(x.Get(j), r.Get(j)));
                            }

                            residual[residualOffset + i] = r;
                            x = r;
                        }

                        for (int j = 0; j < width; j++)
                        {
                            block = codec.AddSquare(block, x.Get(j));
                        }
                    }

                    acc = codec.Add(acc, block);
                }
            }

            partials[tid] = acc;
            Group.Barrier();

            // Phase 2: fixed-order tree reduction over the threads of each segment.
            for (int stride = p.ThreadsPerRow >> 1; stride > 0; stride >>= 1)
            {
                if (lane < stride)
                {
                    partials[tid] = codec.Add(partials[tid], partials[tid + stride]);
                }

                Group.Barrier();
            }

            // Phase 3: normalize and scale. Each thread reads back the residual packets it wrote in phase 1.
            if (active)
            {
                TAcc denominator = codec.Denominator(partials[rowBase], n, p.Epsilon);
                long weightOffset = (long)(segment % p.WeightGroups) * packets;
                if (plain != 0)
                {
                    for (int i = lane; i < packets; i += p.ThreadsPerRow)
                    {
                        var x = p.HasResidual != 0 ? residual[residualOffset + i] : input[offset + i];
                        TPacket y = default;
                        if (p.HasWeight != 0)
                        {
                            var w = weight[weightOffset + i];
                            for (int j = 0; j < width; j++)
                            {
                                y.Set(j, codec.NormalizeScale(x.Get(j), denominator, w.Get(j)));
                            }
                        }
                        else
                        {
                            for (int j = 0; j < width; j++)
                            {
                                y.Set(j, codec.Normalize(x.Get(j), denominator));
                            }
                        }

                        output[outputOffset + i] = y;
                    }
                }
                else
                {
                    // Policies, offset and bias: one uniform branch per call, not per element.
                    TAcc scale = p.Policy == RmsNormKernelParams.InputDtypePolicy ? codec.Reciprocal(denominator) : denominator;
                    for (int i = lane; i < packets; i += p.ThreadsPerRow)
                    {
                        var x = p.HasResidual != 0 ? residual[residualOffset + i] : input[offset + i];
                        TPacket w = default;
                        TPacket b = default;
                        if (p.HasWeight != 0)
                        {
                            w = weight[weightOffset + i];
                        }

                        if (p.HasBias != 0)
                        {
                            b = bias[weightOffset + i];
                        }

                        TPacket y = default;
                        for (int j = 0; j < width; j++)
                        {
                            y.Set(j, codec.Apply(x.Get(j), scale, w.Get(j), b.Get(j), p.Policy, p.HasWeight, p.HasBias, p.WeightOffset));
                        }

                        output[outputOffset + i] = y;
                    }
                }
            }

            // The partials are reused by the next pass.
            Group.Barrier();
        }
    }
}
