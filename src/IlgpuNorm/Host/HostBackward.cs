using System.Runtime.CompilerServices;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path of the rms_norm backward pass, with the kernels' codecs (float32 math for float32/float16/bfloat16,
/// float64 for float64). Segments are cut into fixed blocks of <see cref="BlockSegments"/>; each block sums its
/// dy·x·r into its own partial dweight row, and the rows are then added in block order, so the bits depend on the
/// shape only, never on the number of threads or their timing.
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
        TF[] partials = hasWeight ? new TF[checked(blocks * length)] : [];
        double epsilon = problem.Epsilon;
        fixed (T* pdy = dy, px = x, pw = w, pdx = dx)
        fixed (float* pr = rstd)
        {
            nint dya = (nint)pdy, xa = (nint)px, wa = (nint)pw, dxa = (nint)pdx, ra = (nint)pr;
            HostBlocks.For(blocks, problem.TotalElements * 2, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (firstBlock, lastBlock) =>
            {
                for (long b = firstBlock; b < lastBlock; b++)
                {
                    Span<TF> partial = hasWeight ? partials.AsSpan((int)(b * length), length) : default;
                    long end = Math.Min(segments, (b + 1) * BlockSegments);
                    for (long s = b * BlockSegments; s < end; s++)
                    {
                        int g = (int)(s % groups);
                        Segment<T, TF, TCodec>(
                            new ReadOnlySpan<T>((T*)dya + s * n, n),
                            new ReadOnlySpan<T>((T*)xa + s * n, n),
                            hasWeight ? new ReadOnlySpan<T>((T*)wa + (long)g * n, n) : default,
                            hasRstd ? ((float*)ra)[s] : float.NaN,
                            hasRstd,
                            epsilon,
                            new Span<T>((T*)dxa + s * n, n),
                            hasWeight ? partial.Slice(g * n, n) : default);
                    }
                }
            });
        }

        if (hasWeight)
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

    public static unsafe void Rstd<T, TF, TCodec>(RmsNormProblem problem, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        int n = problem.SegmentLength;
        double epsilon = problem.Epsilon;
        fixed (T* px = x)
        fixed (float* pr = rstd)
        {
            nint xa = (nint)px, ra = (nint)pr;
            HostBlocks.For(problem.Segments, problem.TotalElements, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (first, last) =>
            {
                TCodec codec = default;
                for (long s = first; s < last; s++)
                {
                    var xs = new ReadOnlySpan<T>((T*)xa + s * n, n);
                    ((float*)ra)[s] = codec.ToSingle(codec.Rstd(SumOfSquares<T, TF, TCodec>(xs), n, epsilon));
                }
            });
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
