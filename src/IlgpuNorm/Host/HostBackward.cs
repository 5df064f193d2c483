using System.Buffers;
using System.Runtime.CompilerServices;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path of the rms_norm backward pass, with the kernels' codecs (float32 math for float32/float16/bfloat16,
/// float64 for float64). Segments are cut into fixed blocks of <see cref="BlockSegments"/>; each block sums its
/// dy·x·r into its own partial dweight row (pooled, cleared per block), and the rows are then added in block order, so
/// the bits depend on the shape only, never on the number of threads or their timing. Struct block bodies: no closure
/// per call.
/// </summary>
internal static class HostBackward
{
    /// <summary>Segments per dweight partial row: a fixed number, so the summation order is a function of the shape.</summary>
    internal const int BlockSegments = 64;

    public static unsafe void Run<T, TF, TCodec>(
        RmsNormProblem problem, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        int n = problem.SegmentLength;
        int length = problem.NormalizedLength;
        int groups = problem.NumGroups;
        long segments = problem.Segments;
        bool hasWeight = !w.IsEmpty;
        bool hasRstd = !rstd.IsEmpty;
        long blocks = (segments + BlockSegments - 1) / BlockSegments;
        TF[]? partials = hasWeight ? ArrayPool<TF>.Shared.Rent(checked((int)(blocks * length))) : null;
        try
        {
            fixed (T* pdy = dy, px = x, pw = w, pdx = dx)
            fixed (TF* pp = partials)
            fixed (float* pr = rstd)
            {
                var body = new Body<T, TF, TCodec>
                {
                    Dy = pdy,
                    X = px,
                    W = hasWeight ? pw : null,
                    Dx = pdx,
                    Rstd = hasRstd ? pr : null,
                    Partials = pp,
                    N = n,
                    Length = length,
                    Groups = groups,
                    Segments = segments,
                    Epsilon = problem.Epsilon,
                };
                HostBlocks.For(blocks, problem.TotalElements * 2, body);
            }

            if (partials is not null)
            {
                for (int j = 0; j < length; j++)
                {
                    TF sum = default;
                    for (long b = 0; b < blocks; b++)
                    {
                        sum = codec.Add(sum, partials[b * length + j]);
                    }

                    dw[j] = codec.Store(sum);
                }
            }
        }
        finally
        {
            if (partials is not null)
            {
                ArrayPool<TF>.Shared.Return(partials);
            }
        }
    }

    public static unsafe void Rstd<T, TF, TCodec>(RmsNormProblem problem, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        fixed (T* px = x)
        fixed (float* pr = rstd)
        {
            var body = new RstdBody<T, TF, TCodec> { X = px, Rstd = pr, N = problem.SegmentLength, Epsilon = problem.Epsilon };
            HostBlocks.For(problem.Segments, problem.TotalElements, body);
        }
    }

    /// <summary>Σx² in blocks of <see cref="RmsNormKernel.BlockLength"/>, then the block sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static TF SumOfSquares<T, TF, TCodec>(ReadOnlySpan<T> x)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        TF sum = default;
        int i = 0;
        while (i < x.Length)
        {
            TF block = default;
            for (int k = 0; k < RmsNormKernel.BlockLength && i < x.Length; k++, i++)
            {
                TF v = codec.Load(x[i]);
                block = codec.Add(block, codec.Mul(v, v));
            }

            sum = codec.Add(sum, block);
        }

        return sum;
    }

    /// <summary>The blocks [first, last): each clears its partial dweight row, then adds its segments into it.</summary>
    private unsafe struct Body<T, TF, TCodec> : IBlockBody
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        public T* Dy;
        public T* X;
        public T* W;
        public T* Dx;
        public float* Rstd;
        public TF* Partials;
        public int N;
        public int Length;
        public int Groups;
        public long Segments;
        public double Epsilon;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long firstBlock, long lastBlock)
        {
            int n = N;
            for (long b = firstBlock; b < lastBlock; b++)
            {
                Span<TF> partial = Partials is null ? default : new Span<TF>(Partials + b * Length, Length);
                partial.Clear();
                long end = Math.Min(Segments, (b + 1) * BlockSegments);
                for (long s = b * BlockSegments; s < end; s++)
                {
                    int g = (int)(s % Groups);
                    Segment<T, TF, TCodec>(
                        new ReadOnlySpan<T>(Dy + s * n, n),
                        new ReadOnlySpan<T>(X + s * n, n),
                        W is null ? default : new ReadOnlySpan<T>(W + (long)g * n, n),
                        Rstd is null ? float.NaN : Rstd[s],
                        Rstd is not null,
                        Epsilon,
                        new Span<T>(Dx + s * n, n),
                        Partials is null ? default : partial.Slice(g * n, n));
                }
            }
        }
    }

    /// <summary>1/rms of the segments [first, last).</summary>
    private unsafe struct RstdBody<T, TF, TCodec> : IBlockBody
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        public T* X;
        public float* Rstd;
        public int N;
        public double Epsilon;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long first, long last)
        {
            TCodec codec = default;
            int n = N;
            for (long s = first; s < last; s++)
            {
                Rstd[s] = codec.ToSingle(codec.Rstd(SumOfSquares<T, TF, TCodec>(new ReadOnlySpan<T>(X + s * n, n)), n, Epsilon));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Segment<T, TF, TCodec>(
        ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, float savedRstd, bool hasRstd, double epsilon, Span<T> dx, Span<TF> partial)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        int n = x.Length;
        bool hasWeight = !w.IsEmpty;
        TF one = codec.FromSingle(1f);
        TF dot = default;
        int i = 0;
        while (i < n)
        {
            TF block = default;
            for (int k = 0; k < RmsNormKernel.BlockLength && i < n; k++, i++)
            {
                TF wv = hasWeight ? codec.Load(w[i]) : one;
                block = codec.Add(block, codec.Mul(codec.Mul(wv, codec.Load(dy[i])), codec.Load(x[i])));
            }

            dot = codec.Add(dot, block);
        }

        TF r = hasRstd ? codec.FromSingle(savedRstd) : codec.Rstd(SumOfSquares<T, TF, TCodec>(x), n, epsilon);
        TF k2 = codec.Mul(codec.Mul(r, r), codec.Mean(dot, n));
        for (int j = 0; j < n; j++)
        {
            TF xv = codec.Load(x[j]);
            TF g = codec.Load(dy[j]);
            TF wv = hasWeight ? codec.Load(w[j]) : one;
            dx[j] = codec.Store(codec.Mul(r, codec.Sub(codec.Mul(wv, g), codec.Mul(xv, k2))));
            if (hasWeight)
            {
                partial[j] = codec.Add(partial[j], codec.Mul(codec.Mul(g, xv), r));
            }
        }
    }
}
