using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The vectorized host backward pass for float32, float16 and bfloat16 inputs (float32 math). Per row, with Vector512:
/// one pass reads x, dy (and w) and sums Σx² (float64 lanes) and Σ (w·dy)·x (float32 lanes); a second pass over the
/// now cache-resident row writes dx = r·(w·dy − x·(r²·c)) and adds (dy·x)·r to the block's dweight partial row. Both
/// passes use fused multiply-adds (one rounding fewer than the per-element definition; same bits on every machine
/// with FMA, and the scalar tails use <see cref="MathF.FusedMultiplyAdd"/>). Without Vector512 the same passes run on
/// Vector256. float16/bfloat16 rows are widened into row buffers first and dx narrowed after; float32 rows
/// larger than the last-level cache write dx with non-temporal stores and prefetch the next row. Blocks of
/// <see cref="HostBackward.BlockSegments"/> segments and the fixed-order sum of their partial rows are those of
/// <see cref="HostBackward"/>, so the bits depend on the shape only. Buffers are pooled and the block body is a struct:
/// no managed allocation per call in steady state when single-threaded.
/// </summary>
internal static class HostBackwardSingle
{
    public static unsafe void Run<T, TConversions>(
        RmsNormProblem problem, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
        where TConversions : IStorage<T, float>
    {
        int length = problem.NormalizedLength;
        long segments = problem.Segments;
        long blocks = (segments + HostBackward.BlockSegments - 1) / HostBackward.BlockSegments;
        bool hasWeight = !w.IsEmpty;
        float[]? weight = !hasWeight || typeof(T) == typeof(float) ? null : ArrayPool<float>.Shared.Rent(w.Length);
        float[]? partials = hasWeight ? ArrayPool<float>.Shared.Rent(checked((int)(blocks * length))) : null;
        try
        {
            if (weight is not null)
            {
                HostStorage.Widen<T, float, TConversions>(w, weight.AsSpan(0, w.Length));
            }

            fixed (T* pdy = dy, px = x, pw = w, pdx = dx)
            fixed (float* pr = rstd, pwf = weight, pp = partials)
            {
                var body = new Body<T, TConversions>
                {
                    Dy = pdy,
                    X = px,
                    Dx = pdx,
                    W = !hasWeight ? null : weight is null ? (float*)pw : pwf,
                    Rstd = rstd.IsEmpty ? null : pr,
                    Partials = pp,
                    N = problem.SegmentLength,
                    Length = length,
                    Groups = problem.NumGroups,
                    Segments = segments,
                    Epsilon = (float)problem.Epsilon,
                    Streaming = typeof(T) == typeof(float) && Sse.IsSupported && HostCache.ShouldStream(problem.TotalElements * 3 * sizeof(float)),
                };
                HostBlocks.For(blocks, problem.TotalElements * 2, body);

                if (hasWeight)
                {
                    // dweight = Σ over blocks, in block order, of the partial rows (into row 0, column by column).
                    SumPartials(pp, blocks, length);
                    HostStorage.Narrow<T, float, TConversions>(new ReadOnlySpan<float>(pp, length), dw);
                }
            }
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<float>.Shared.Return(weight);
            }

            if (partials is not null)
            {
                ArrayPool<float>.Shared.Return(partials);
            }
        }
    }

    /// <summary>p[j] = ((0 + p[0·length + j]) + p[1·length + j]) + … for every column j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SumPartials(float* p, long blocks, int length)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= length - 16; j += 16)
            {
                var sum = Vector512<float>.Zero;
                for (long b = 0; b < blocks; b++)
                {
                    sum += Vector512.Load(p + b * length + j);
                }

                sum.Store(p + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= length - 8; j += 8)
            {
                var sum = Vector256<float>.Zero;
                for (long b = 0; b < blocks; b++)
                {
                    sum += Vector256.Load(p + b * length + j);
                }

                sum.Store(p + j);
            }
        }

        for (; j < length; j++)
        {
            float sum = 0f;
            for (long b = 0; b < blocks; b++)
            {
                sum += p[b * length + j];
            }

            p[j] = sum;
        }
    }

    private unsafe struct Body<T, TConversions> : IBlockBody
        where T : unmanaged
        where TConversions : IStorage<T, float>
    {
        public T* Dy;
        public T* X;
        public T* Dx;
        public float* W;
        public float* Rstd;
        public float* Partials;
        public int N;
        public int Length;
        public int Groups;
        public long Segments;
        public float Epsilon;
        public bool Streaming;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long firstBlock, long lastBlock)
        {
            int n = N;
            bool single = typeof(T) == typeof(float);
            float[]? rented = single ? null : ArrayPool<float>.Shared.Rent(3 * n);
            try
            {
                fixed (float* buffer = rented)
                {
                    for (long b = firstBlock; b < lastBlock; b++)
                    {
                        float* partial = Partials is null ? null : Partials + b * Length;
                        if (partial is not null)
                        {
                            new Span<float>(partial, Length).Clear();
                        }

                        long end = Math.Min(Segments, (b + 1) * HostBackward.BlockSegments);
                        for (long s = b * HostBackward.BlockSegments; s < end; s++)
                        {
                            int g = (int)(s % Groups);
                            float* xs, gs, dxs;
                            if (single)
                            {
                                xs = (float*)X + s * n;
                                gs = (float*)Dy + s * n;
                                dxs = (float*)Dx + s * n;
                            }
                            else
                            {
                                xs = buffer;
                                gs = buffer + n;
                                dxs = buffer + 2 * n;
                                HostStorage.Widen<T, float, TConversions>(new ReadOnlySpan<T>(X + s * n, n), new Span<float>(xs, n));
                                HostStorage.Widen<T, float, TConversions>(new ReadOnlySpan<T>(Dy + s * n, n), new Span<float>(gs, n));
                            }

                            Row(
                                xs,
                                gs,
                                W is null ? null : W + (long)g * n,
                                n,
                                Rstd is null ? float.NaN : Rstd[s],
                                Rstd is not null,
                                Epsilon,
                                dxs,
                                partial is null ? null : partial + (long)g * n,
                                Streaming);
                            if (!single)
                            {
                                HostStorage.Narrow<T, float, TConversions>(new ReadOnlySpan<float>(dxs, n), new Span<T>(Dx + s * n, n));
                            }
                        }
                    }
                }
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            }
        }
    }

    /// <summary>One float32 row: dx, and (dy·x)·r added to <paramref name="partial"/> (with a weight).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Row(float* x, float* dy, float* w, int n, float savedRstd, bool hasRstd, float epsilon, float* dx, float* partial, bool streaming)
    {
        double squares = 0, dot = 0;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            // Σx² in four float64 accumulators, Σ t·x (t = w·dy, rounded to float32) in four float32 ones, fused
            // multiply-adds throughout, summed in a fixed order.
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            var a2 = Vector512<double>.Zero;
            var a3 = Vector512<double>.Zero;
            var d0 = Vector512<float>.Zero;
            var d1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                if (streaming)
                {
                    // The next row (contiguous rows), so that its reads overlap this row's arithmetic.
                    Sse.Prefetch0(x + n + i);
                    Sse.Prefetch0(x + n + i + 16);
                    Sse.Prefetch0(dy + n + i);
                    Sse.Prefetch0(dy + n + i + 16);
                }

                var x0 = Vector512.Load(x + i);
                var x1 = Vector512.Load(x + i + 16);
                var t0 = Vector512.Load(dy + i);
                var t1 = Vector512.Load(dy + i + 16);
                if (w is not null)
                {
                    t0 = Vector512.Load(w + i) * t0;
                    t1 = Vector512.Load(w + i + 16) * t1;
                }

                d0 = Vector512.FusedMultiplyAdd(t0, x0, d0);
                d1 = Vector512.FusedMultiplyAdd(t1, x1, d1);
                var (lo, hi) = Vector512.Widen(x0);
                a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
                (lo, hi) = Vector512.Widen(x1);
                a2 = Vector512.FusedMultiplyAdd(lo, lo, a2);
                a3 = Vector512.FusedMultiplyAdd(hi, hi, a3);
            }

            if (i <= n - 16)
            {
                var x0 = Vector512.Load(x + i);
                var t0 = Vector512.Load(dy + i);
                if (w is not null)
                {
                    t0 = Vector512.Load(w + i) * t0;
                }

                d0 = Vector512.FusedMultiplyAdd(t0, x0, d0);
                var (lo, hi) = Vector512.Widen(x0);
                a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
                i += 16;
            }

            squares = Vector512.Sum((a0 + a2) + (a1 + a3));
            var (dl, dh) = Vector512.Widen(d0 + d1);
            dot = Vector512.Sum(dl + dh);
            for (int j = i; j < n; j++)
            {
                double v = x[j];
                squares += v * v;
            }
        }
        else
        {
            squares = HostRows.SumOfSquares(new ReadOnlySpan<float>(x, n));
            if (Vector256.IsHardwareAccelerated)
            {
                var d0 = Vector256<float>.Zero;
                var d1 = Vector256<float>.Zero;
                for (; i <= n - 16; i += 16)
                {
                    var t0 = Vector256.Load(dy + i);
                    var t1 = Vector256.Load(dy + i + 8);
                    if (w is not null)
                    {
                        t0 = Vector256.Load(w + i) * t0;
                        t1 = Vector256.Load(w + i + 8) * t1;
                    }

                    d0 = Vector256.FusedMultiplyAdd(t0, Vector256.Load(x + i), d0);
                    d1 = Vector256.FusedMultiplyAdd(t1, Vector256.Load(x + i + 8), d1);
                }

                var (dl, dh) = Vector256.Widen(d0 + d1);
                dot = Vector256.Sum(dl + dh);
            }
        }

        for (; i < n; i++)
        {
            dot += (double)(w is null ? dy[i] : w[i] * dy[i]) * x[i];
        }

        float c = (float)dot / n;
        float r = hasRstd ? savedRstd : 1f / MathF.Sqrt((float)squares / n + epsilon);
        float k = -(r * r * c);
        i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            if (streaming && ((nuint)dx & 3) == 0)
            {
                // Up to the 64-byte boundary with scalars, then aligned non-temporal stores; the same arithmetic.
                int head = Math.Min(n, (int)((64 - ((nuint)dx & 63)) & 63) / sizeof(float));
                for (; i < head; i++)
                {
                    Scalar(x, dy, w, dx, partial, i, r, k);
                }

                var vr = Vector512.Create(r);
                var vk = Vector512.Create(k);
                for (; i <= n - 16; i += 16)
                {
                    Sse.Prefetch0(x + n + i); // the next row, for contiguous rows; a prefetch never faults
                    Sse.Prefetch0(dy + n + i);
                    var xv = Vector512.Load(x + i);
                    var g = Vector512.Load(dy + i);
                    var t = w is null ? g : Vector512.Load(w + i) * g;
                    Vector512.StoreAlignedNonTemporal(Vector512.FusedMultiplyAdd(xv, vk, t) * vr, dx + i);
                    if (partial is not null)
                    {
                        Vector512.FusedMultiplyAdd(g * xv, vr, Vector512.Load(partial + i)).Store(partial + i);
                    }
                }

                Sse.StoreFence();
            }
            else
            {
                var vr = Vector512.Create(r);
                var vk = Vector512.Create(k);
                for (; i <= n - 16; i += 16)
                {
                    var xv = Vector512.Load(x + i);
                    var g = Vector512.Load(dy + i);
                    var t = w is null ? g : Vector512.Load(w + i) * g;
                    (Vector512.FusedMultiplyAdd(xv, vk, t) * vr).Store(dx + i);
                    if (partial is not null)
                    {
                        Vector512.FusedMultiplyAdd(g * xv, vr, Vector512.Load(partial + i)).Store(partial + i);
                    }
                }
            }
        }

        else if (Vector256.IsHardwareAccelerated)
        {
            var vr = Vector256.Create(r);
            var vk = Vector256.Create(k);
            for (; i <= n - 8; i += 8)
            {
                var xv = Vector256.Load(x + i);
                var g = Vector256.Load(dy + i);
                var t = w is null ? g : Vector256.Load(w + i) * g;
                (Vector256.FusedMultiplyAdd(xv, vk, t) * vr).Store(dx + i);
                if (partial is not null)
                {
                    Vector256.FusedMultiplyAdd(g * xv, vr, Vector256.Load(partial + i)).Store(partial + i);
                }
            }
        }

        for (; i < n; i++)
        {
            Scalar(x, dy, w, dx, partial, i, r, k);
        }
    }

    /// <summary>Element i of the second pass: dx = (x·k + t)·r, partial += (dy·x)·r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Scalar(float* x, float* dy, float* w, float* dx, float* partial, int i, float r, float k)
    {
        float xv = x[i];
        float g = dy[i];
        float t = w is null ? g : w[i] * g;
        dx[i] = MathF.FusedMultiplyAdd(xv, k, t) * r;
        if (partial is not null)
        {
            partial[i] = MathF.FusedMultiplyAdd(g * xv, r, partial[i]);
        }
    }
}
