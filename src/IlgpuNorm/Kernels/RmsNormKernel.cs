using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// The rms_norm kernel, one C# source for CUDA, OpenCL and ILGPU's CPU accelerator.
/// </summary>
/// <remarks>
/// A group of <c>ThreadsPerRow * RowsPerGroup</c> threads works on <c>RowsPerGroup</c> segments at once
/// (one segment per group when <c>RowsPerGroup = 1</c>, several short rows per group otherwise) and
/// strides over the grid until all segments are done. Per segment:
/// <list type="number">
/// <item>each thread sums the squares of elements lane, lane + ThreadsPerRow, … in that order, in blocks of
/// <see cref="BlockLength"/> whose sums are then added up (two-level summation keeps long rows accurate);</item>
/// <item>the partial sums are reduced in shared memory by a fixed binary tree (no atomics), so the
/// result depends only on the segment's data and <c>ThreadsPerRow</c>, never on the batch size;</item>
/// <item>every thread writes its elements as x / sqrt(mean + eps), times the weight.</item>
/// </list>
/// The kernel checks nothing and allocates nothing: the public API validated the arguments and the
/// launch plan chose the configuration.
/// </remarks>
internal static class RmsNormKernel
{
    /// <summary>Squares summed per thread before the block sum joins the thread's total.</summary>
    internal const int BlockLength = 16;

    public static void Run<T, TAcc, TCodec>(
        ArrayView<T> input,
        ArrayView<T> weight,
        ArrayView<T> output,
        RmsNormKernelParams p)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<T, TAcc>
    {
        TCodec codec = default;
        var partials = SharedMemory.GetDynamic<TAcc>();
        int tid = Group.IdxX;
        int slot = tid / p.ThreadsPerRow;
        int lane = tid - slot * p.ThreadsPerRow;
        int rowBase = slot * p.ThreadsPerRow;
        int n = p.SegmentLength;
        int segmentsPerPass = Grid.DimX * p.RowsPerGroup;

        for (int first = Grid.IdxX * p.RowsPerGroup; first < p.Segments; first += segmentsPerPass)
        {
            // Phase 1: per-thread partial sums of squares, in a fixed order.
            int segment = first + slot;
            bool active = segment < p.Segments;
            long offset = (long)segment * n;
            TAcc acc = default;
            if (active)
            {
                // Two levels (blocks of BlockLength squares, then the block sums) keep the float32
                // rounding error of long per-thread sums small.
                int i = lane;
                while (i < n)
                {
                    TAcc block = default;
                    for (int k = 0; k < BlockLength && i < n; k++, i += p.ThreadsPerRow)
                    {
                        block = codec.AddSquare(block, input[offset + i]);
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

            // Phase 3: normalize and scale.
            if (active)
            {
                TAcc denominator = codec.Denominator(partials[rowBase], n, p.Epsilon);
                if (p.HasWeight != 0)
                {
                    long weightOffset = (long)(segment % p.WeightGroups) * n;
                    for (int i = lane; i < n; i += p.ThreadsPerRow)
                    {
                        output[offset + i] = codec.NormalizeScale(input[offset + i], denominator, weight[weightOffset + i]);
                    }
                }
                else
                {
                    for (int i = lane; i < n; i += p.ThreadsPerRow)
                    {
                        output[offset + i] = codec.Normalize(input[offset + i], denominator);
                    }
                }
            }

            // The partials are reused by the next pass.
            Group.Barrier();
        }
    }
}
