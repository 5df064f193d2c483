using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuNorm.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>One segment of the backward pass: dx, and (dy·x)·r added to the block's dweight partial row (when not null).</summary>
internal unsafe interface IBackwardSegment<T, TF>
    where T : unmanaged
    where TF : unmanaged
{
    static abstract void Run(T* dy, T* x, TF* w, float savedRstd, bool hasRstd, double epsilon, T* dx, TF* partial, int n, RowTraffic traffic);
}

/// <summary>
/// The host path of the rms_norm backward pass. Segments are cut into fixed blocks of <see cref="BlockSegments"/>; each
/// block sums its dy·x·r into its own partial dweight row (pooled, cleared per block), and the rows are then added in
/// block order, so the bits depend on the shape only, never on the number of threads or their timing. float32, float16
/// and bfloat16 rows run <see cref="VectorSegment{T, S}"/> (float32 math over the drivers); float64 the kernels' codec
/// per element (<see cref="CodecSegment{T, TF, TCodec}"/>).
/// </summary>
[SkipLocalsInit]
internal static unsafe class HostBackward
{
    /// <summary>Segments per dweight partial row: a fixed number, so the summation order is a function of the shape.</summary>
    internal const int BlockSegments = 64;

    public static void Run<T, TF, S, TSegment>(RmsNormProblem problem, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
        where TF : unmanaged, IFloatingPointIeee754<TF>
        where S : IStorage<T, TF>
        where TSegment : IBackwardSegment<T, TF>
    {
        int length = problem.NormalizedLength;
        long blocks = (problem.Segments + BlockSegments - 1) / BlockSegments;
        TF[]? weight = w.IsEmpty || S.IsCompute ? null : ArrayPool<TF>.Shared.Rent(w.Length);
        TF[]? partials = w.IsEmpty ? null : ArrayPool<TF>.Shared.Rent(checked((int)(blocks * length)));
        try
        {
            if (weight is not null)
            {
                HostStorage.Widen<T, TF, S>(w, weight.AsSpan(0, w.Length));
            }

            fixed (T* pdy = dy, px = x, pw = w, pdx = dx)
            fixed (TF* pwf = weight, pp = partials)
            fixed (float* pr = rstd)
            {
                bool streaming = typeof(TF) == typeof(float) && HostCache.ShouldStream(problem.TotalElements * 3 * sizeof(T));
                var body = new Blocks<T, TF, TSegment>(pdy, px, w.IsEmpty ? null : weight is null ? (TF*)pw : pwf, pdx, rstd.IsEmpty ? null : pr, pp, problem, streaming ? RowTraffic.Streamed : RowTraffic.Cached);
                HostBlocks.For(blocks, problem.TotalElements * 2, body);
                if (partials is not null)
                {
                    fixed (T* pdw = dw)
                    {
                        SumPartials<T, TF, S>(pp, blocks, length, pdw);
                    }
                }
            }
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<TF>.Shared.Return(weight);
            }

            if (partials is not null)
            {
                ArrayPool<TF>.Shared.Return(partials);
            }
        }
    }

    /// <summary>1/rms of every segment, with the kernels' codec and block order (the same bits as the kernels' rstd).</summary>
    public static void Rstd<T, TF, TCodec>(RmsNormProblem problem, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        fixed (T* px = x)
        fixed (float* pr = rstd)
        {
            HostBlocks.For(problem.Segments, problem.TotalElements, new RstdRows<T, TF, TCodec>(px, pr, problem.SegmentLength, problem.Epsilon));
        }
    }

    /// <summary>Σx² in blocks of <see cref="RmsNormKernel.BlockLength"/>, then the block sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static TF SumOfSquares<T, TF, TCodec>(T* x, int n)
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        TCodec codec = default;
        TF sum = default;
        for (int i = 0; i < n;)
        {
            TF block = default;
            for (int k = 0; k < RmsNormKernel.BlockLength && i < n; k++, i++)
            {
                TF v = codec.Load(x[i]);
                block = codec.Add(block, codec.Mul(v, v));
            }

            sum = codec.Add(sum, block);
        }

        return sum;
    }

    /// <summary>dw[j] = (T)(((0 + p[0·length + j]) + p[1·length + j]) + …) for every column j: the partial rows summed
    /// in block order and narrowed in one pass (separate passes cost a [1, 4096] call about 0.2 µs).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SumPartials<T, TF, S>(TF* p, long blocks, int length, T* dw)
        where T : unmanaged
        where TF : unmanaged, IFloatingPointIeee754<TF>
        where S : IStorage<T, TF>
    {
        int j = 0;
        for (; Vector512.IsHardwareAccelerated && j <= length - Vector512<TF>.Count; j += Vector512<TF>.Count)
        {
            var sum = Vector512<TF>.Zero;
            for (long b = 0; b < blocks; b++)
            {
                sum += Vector512.Load(p + b * length + j);
            }

            S.Store(sum, dw + j);
        }

        for (; Vector256.IsHardwareAccelerated && j <= length - Vector256<TF>.Count; j += Vector256<TF>.Count)
        {
            var sum = Vector256<TF>.Zero;
            for (long b = 0; b < blocks; b++)
            {
                sum += Vector256.Load(p + b * length + j);
            }

            S.Store(sum, dw + j);
        }

        for (; j < length; j++)
        {
            TF sum = TF.Zero;
            for (long b = 0; b < blocks; b++)
            {
                sum += p[b * length + j];
            }

            dw[j] = S.Narrow(sum);
        }
    }

    /// <summary>The blocks [first, last): each clears its partial dweight row, then adds its segments into it.</summary>
    private readonly struct Blocks<T, TF, TSegment>(T* dy, T* x, TF* w, T* dx, float* rstd, TF* partials, RmsNormProblem problem, RowTraffic traffic) : IBlockBody
        where T : unmanaged
        where TF : unmanaged
        where TSegment : IBackwardSegment<T, TF>
    {
        public void Run(long firstBlock, long lastBlock)
        {
            int n = problem.SegmentLength, length = problem.NormalizedLength;
            for (long b = firstBlock; b < lastBlock; b++)
            {
                TF* partial = partials is null ? null : partials + b * length;
                new Span<TF>(partial, partial is null ? 0 : length).Clear();
                long end = Math.Min(problem.Segments, (b + 1) * BlockSegments);
                for (long s = b * BlockSegments; s < end; s++)
                {
                    long g = problem.NumGroups == 1 ? 0 : s % problem.NumGroups * n; // no division per row for one group
                    TSegment.Run(dy + s * n, x + s * n, w is null ? null : w + g, rstd is null ? float.NaN : rstd[s], rstd is not null, problem.Epsilon, dx + s * n, partial is null ? null : partial + g, n, traffic);
                }
            }
        }
    }

    /// <summary>1/rms of the segments [first, last).</summary>
    private readonly struct RstdRows<T, TF, TCodec>(T* x, float* rstd, int n, double epsilon) : IBlockBody
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long first, long last)
        {
            TCodec codec = default;
            for (long s = first; s < last; s++)
            {
                rstd[s] = codec.ToSingle(codec.Rstd(SumOfSquares<T, TF, TCodec>(x + s * n, n), n, epsilon));
            }
        }
    }
}

/// <summary>
/// A float32-math backward row over the drivers: the row reduction reads x, dy (and w) through
/// <see cref="BackwardLoad{T, S, TWeighted, TPrefetch}"/> and sums Σx² (float64 lanes) and Σ (w·dy)·x (float32 lanes); the row map over the now cache-resident row writes
/// dx = r·(w·dy − x·(r²·c)) and adds (dy·x)·r to the partial row (<see cref="BackwardOp{T, S, TWeighted}"/>). Both use fused
/// multiply-adds (one rounding fewer than the per-element definition; the same bits on every machine with FMA, the scalar
/// tails use <see cref="MathF.FusedMultiplyAdd"/>). 16-bit rows convert in registers.
/// </summary>
[SkipLocalsInit]
internal readonly unsafe struct VectorSegment<T, S> : IBackwardSegment<T, float>
    where T : unmanaged
    where S : IStorage<T, float>
{
    public static void Run(T* dy, T* x, float* w, float savedRstd, bool hasRstd, double epsilon, T* dx, float* partial, int n, RowTraffic traffic)
    {
        // The weight and the prefetch as type flags: no test of either in the loops.
        bool streamed = traffic == RowTraffic.Streamed;
        if (w is null)
        {
            if (streamed)
            {
                Row<No, Yes>(dy, x, w, savedRstd, hasRstd, epsilon, dx, partial, n, traffic);
            }
            else
            {
                Row<No, No>(dy, x, w, savedRstd, hasRstd, epsilon, dx, partial, n, traffic);
            }
        }
        else if (streamed)
        {
            Row<Yes, Yes>(dy, x, w, savedRstd, hasRstd, epsilon, dx, partial, n, traffic);
        }
        else
        {
            Row<Yes, No>(dy, x, w, savedRstd, hasRstd, epsilon, dx, partial, n, traffic);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TWeighted, TPrefetch>(T* dy, T* x, float* w, float savedRstd, bool hasRstd, double epsilon, T* dx, float* partial, int n, RowTraffic traffic)
        where TWeighted : IFlag
        where TPrefetch : IFlag
    {
        var load = new BackwardLoad<T, S, TWeighted, TPrefetch>(x, dy, w, n);
        float squares = HostRows.SumOfSquares(ref load, n, out double dot);
        float c = (float)dot / n;
        float r = hasRstd ? savedRstd : 1f / MathF.Sqrt(squares / n + (float)epsilon);
        var op = new BackwardOp<T, S, TWeighted>(x, dy, w, partial, r, -(r * r * c));
        HostRows.Map<T, float, S, BackwardOp<T, S, TWeighted>>(ref op, dx, n, traffic);
    }
}

/// <summary>A backward row with the kernels' codec, element by element (float64).</summary>
internal readonly unsafe struct CodecSegment<T, TF, TCodec> : IBackwardSegment<T, TF>
    where T : unmanaged
    where TF : unmanaged
    where TCodec : struct, IBackwardCodec<T, TF>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(T* dy, T* x, TF* w, float savedRstd, bool hasRstd, double epsilon, T* dx, TF* partial, int n, RowTraffic traffic)
    {
        TCodec codec = default;
        TF one = codec.FromSingle(1f);
        TF dot = default;
        for (int i = 0; i < n;)
        {
            TF block = default;
            for (int k = 0; k < RmsNormKernel.BlockLength && i < n; k++, i++)
            {
                block = codec.Add(block, codec.Mul(codec.Mul(w is null ? one : w[i], codec.Load(dy[i])), codec.Load(x[i])));
            }

            dot = codec.Add(dot, block);
        }

        TF r = hasRstd ? codec.FromSingle(savedRstd) : codec.Rstd(HostBackward.SumOfSquares<T, TF, TCodec>(x, n), n, epsilon);
        TF k2 = codec.Mul(codec.Mul(r, r), codec.Mean(dot, n));
        for (int j = 0; j < n; j++)
        {
            TF xv = codec.Load(x[j]);
            TF g = codec.Load(dy[j]);
            dx[j] = codec.Store(codec.Mul(r, codec.Sub(codec.Mul(w is null ? one : w[j], g), codec.Mul(xv, k2))));
            if (partial is not null)
            {
                partial[j] = codec.Add(partial[j], codec.Mul(codec.Mul(g, xv), r));
            }
        }
    }
}

/// <summary>
/// x for the row reduction's Σx², with t = w·dy (rounded to float32) as its product operand: the reduction sums Σ t·x
/// beside it (t = dy without a weight, <typeparamref name="TWeighted"/>). With <typeparamref name="TPrefetch"/> (streamed
/// calls: the map decides streaming, the reduction before it reads the same rows), the next row, <c>ahead</c> elements on.
/// </summary>
internal readonly unsafe struct BackwardLoad<T, S, TWeighted, TPrefetch>(T* x, T* dy, float* w, int ahead) : ILoad<float>
    where T : unmanaged
    where S : IStorage<T, float>
    where TWeighted : IFlag
    where TPrefetch : IFlag
{
    public static bool HasProduct => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> V512(int i, out Vector512<float> t)
    {
        if (TPrefetch.On)
        {
            // Rows from memory: the next row too, so that its reads overlap this row's arithmetic (as the map's prefetch),
            // into L2: the next x and dy rows in L1 (64 KiB at n = 8192) evicted this row before the map read it again.
            Sse.Prefetch1(x + ahead + i);
            Sse.Prefetch1(dy + ahead + i);
        }

        t = TWeighted.On ? Vector512.Load(w + i) * S.Load(dy + i) : S.Load(dy + i);
        return S.Load(x + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> V256(int i, out Vector256<float> t)
    {
        t = TWeighted.On ? Vector256.Load(w + i) * S.Load256(dy + i) : S.Load256(dy + i);
        return S.Load256(x + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int i, out float t)
    {
        t = TWeighted.On ? w[i] * S.Widen(dy[i]) : S.Widen(dy[i]);
        return S.Widen(x[i]);
    }
}

/// <summary>dx = (x·k + t)·r with t = w·dy, k = −r²·c; with a weight partial += (dy·x)·r (fused multiply-adds; the
/// partial dweight row exists exactly when the weight does).</summary>
internal readonly unsafe struct BackwardOp<T, S, TWeighted>(T* x, T* dy, float* w, float* partial, float r, float k) : IMap<float>
    where T : unmanaged
    where S : IStorage<T, float>
    where TWeighted : IFlag
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> V512(int i)
    {
        var xv = S.Load(x + i);
        var g = S.Load(dy + i);
        var dx = Vector512.FusedMultiplyAdd(xv, Vector512.Create(k), TWeighted.On ? Vector512.Load(w + i) * g : g) * Vector512.Create(r);
        if (TWeighted.On)
        {
            Vector512.FusedMultiplyAdd(g * xv, Vector512.Create(r), Vector512.Load(partial + i)).Store(partial + i);
        }

        return dx;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> V256(int i)
    {
        var xv = S.Load256(x + i);
        var g = S.Load256(dy + i);
        var dx = Vector256.FusedMultiplyAdd(xv, Vector256.Create(k), TWeighted.On ? Vector256.Load(w + i) * g : g) * Vector256.Create(r);
        if (TWeighted.On)
        {
            Vector256.FusedMultiplyAdd(g * xv, Vector256.Create(r), Vector256.Load(partial + i)).Store(partial + i);
        }

        return dx;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int i)
    {
        float xv = S.Widen(x[i]), g = S.Widen(dy[i]);
        if (TWeighted.On)
        {
            partial[i] = MathF.FusedMultiplyAdd(g * xv, r, partial[i]);
        }

        return MathF.FusedMultiplyAdd(xv, k, TWeighted.On ? w[i] * g : g) * r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int i)
    {
        Sse.Prefetch1(x + i);
        Sse.Prefetch1(dy + i);
    }
}
