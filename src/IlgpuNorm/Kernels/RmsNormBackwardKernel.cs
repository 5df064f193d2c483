using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// The scalar arguments of <see cref="RmsNormBackwardKernel.Rows{T, TF, TCodec}"/>: those it shares with
/// <see cref="RmsNormKernelParams"/> mean the same (with a weight, dweight partials are written; without, w = 1);
/// <c>NormalizedLength</c> is the weight's length (a partial row's), <c>HasRstd</c> 1 to read each segment's 1/rms from the
/// rstd view instead of recomputing it, <c>RstdOnly</c> 1 to only compute 1/rms and write it there (the forward's saved statistic).
/// </summary>
internal readonly record struct BackwardKernelParams(
    int SegmentLength,
    int Segments,
    int WeightGroups,
    int NormalizedLength,
    int ThreadsPerRow,
    int RowsPerGroup,
    int HasWeight,
    int HasRstd,
    int RstdOnly,
    double Epsilon)
{
    public int WarpShuffle { get; init; }
}

/// <summary>
/// The rms_norm backward pass: dx per segment, and dweight as per-slot partial rows that a second kernel sums in a
/// fixed order (no atomics: a rerun gives the same bits).
/// </summary>
/// <remarks>
/// <para>With r = 1/sqrt(mean(x²) + eps) and c = (1/n)·Σ_j w_j·dy_j·x_j over the segment:
/// <c>dx_i = r·(w_i·dy_i − x_i·(r²·c))</c> (= r·w_i·dy_i − r³·x_i·c) and <c>dweight_j = Σ_segments dy_j·x_j·r</c>.</para>
/// <para><see cref="Rows{T, TF, TCodec}"/>: the layout of <see cref="RmsNormKernel"/>. Each thread sums x² and
/// w·dy·x over its lanes in a fixed order; the fixed tree of <see cref="GroupTree"/> finishes both sums. Slot
/// <c>q = Grid.IdxX · RowsPerGroup + slot</c> owns partial row q (NormalizedLength values, zeroed before the launch) and
/// adds dy·x·r of each segment it handles into it; a thread always owns the same columns of its slot, so nothing races.</para>
/// <para><see cref="Columns{T, TF, TCodec}"/>: one thread per weight column sums the partial rows 0, 1, 2, … in order and
/// rounds once to the storage type.</para>
/// </remarks>
internal static class RmsNormBackwardKernel
{
    public static void Rows<T, TF, TCodec>(
        ArrayView<T> dy,
        ArrayView<T> x,
        ArrayView<T> weight,
        ArrayView<float> rstd,
        ArrayView<T> dx,
        ArrayView<TF> partialRows,
        BackwardKernelParams p)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        var sums = SharedMemory.Allocate<SumPair<TF>>(RmsNormKernel.MaxGroupSize);
        int tid = Group.IdxX;
        int slot = tid / p.ThreadsPerRow;
        int lane = tid - slot * p.ThreadsPerRow;
        int n = p.SegmentLength;
        int segmentsPerPass = Grid.DimX * p.RowsPerGroup;
        long partialBase = (long)(Grid.IdxX * p.RowsPerGroup + slot) * p.NormalizedLength;
        TF one = codec.FromSingle(1f);

        for (int first = Grid.IdxX * p.RowsPerGroup; first < p.Segments; first += segmentsPerPass)
        {
            int segment = first + slot;
            bool active = segment < p.Segments;
            long offset = (long)segment * n;
            long weightOffset = (long)(segment % p.WeightGroups) * n;

            // Phase 1: per-thread sums of x² and w·dy·x, in a fixed order (blocks, then the block sums).
            TF square = default;
            TF dot = default;
            if (active)
            {
                int i = lane;
                while (i < n)
                {
                    TF squareBlock = default;
                    TF dotBlock = default;
                    for (int k = 0; k < RmsNormKernel.BlockLength && i < n; k++, i += p.ThreadsPerRow)
                    {
                        TF xv = codec.Load(x[offset + i]);
                        squareBlock = codec.Add(squareBlock, codec.Mul(xv, xv));
                        TF wv = p.HasWeight != 0 ? codec.Load(weight[weightOffset + i]) : one;
                        TF g = p.RstdOnly != 0 ? default : codec.Load(dy[offset + i]);
                        dotBlock = codec.Add(dotBlock, codec.Mul(codec.Mul(wv, g), xv));
                    }

                    square = codec.Add(square, squareBlock);
                    dot = codec.Add(dot, dotBlock);
                }
            }

            // Phase 2: fixed-order trees, both sums at each level.
            var totals = GroupTree.Reduce(default(PairSum<T, TF, TCodec>), sums, new SumPair<TF>(square, dot), tid, lane, p.ThreadsPerRow, p.WarpShuffle);

            // Phase 3: r, then dx and the dweight partials (or only r).
            if (active)
            {
                TF r = p.HasRstd != 0 ? codec.FromSingle(rstd[segment]) : codec.Rstd(totals.Squares, n, p.Epsilon);
                if (p.RstdOnly != 0)
                {
                    if (lane == 0)
                    {
                        rstd[segment] = codec.ToSingle(r);
                    }
                }
                else
                {
                    TF k = codec.Mul(codec.Mul(r, r), codec.Mean(totals.Dots, n));
                    for (int i = lane; i < n; i += p.ThreadsPerRow)
                    {
                        TF xv = codec.Load(x[offset + i]);
                        TF g = codec.Load(dy[offset + i]);
                        TF wv = p.HasWeight != 0 ? codec.Load(weight[weightOffset + i]) : one;
                        dx[offset + i] = codec.Store(codec.Mul(r, codec.Sub(codec.Mul(wv, g), codec.Mul(xv, k))));
                        if (p.HasWeight != 0)
                        {
                            long at = partialBase + weightOffset + i;
                            partialRows[at] = codec.Add(partialRows[at], codec.Mul(codec.Mul(g, xv), r));
                        }
                    }
                }
            }

            // The shared arrays are reused by the next pass.
            Group.Barrier();
        }
    }

    /// <summary>The two sums of a segment, reduced together.</summary>
    private readonly record struct SumPair<TF>(TF Squares, TF Dots)
        where TF : unmanaged;

    /// <summary>The trees' step: each sum with the codec's addition.</summary>
    private readonly struct PairSum<T, TF, TCodec> : ITreeOp<SumPair<TF>>
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        public SumPair<TF> Combine(SumPair<TF> mine, SumPair<TF> other) =>
            new(default(TCodec).Add(mine.Squares, other.Squares), default(TCodec).Add(mine.Dots, other.Dots));
    }

    public static void Columns<T, TF, TCodec>(Index1D column, ArrayView<TF> partialRows, ArrayView<T> dweight, int rows, int length)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        TF sum = default;
        for (int q = 0; q < rows; q++)
        {
            sum = codec.Add(sum, partialRows[(long)q * length + column]);
        }

        dweight[column] = codec.Store(sum);
    }
}
