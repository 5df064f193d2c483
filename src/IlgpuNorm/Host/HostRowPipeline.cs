using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuNorm.Host;

/// <summary>
/// float32 rows from cache, four in flight: one loop sums the squares of rows k + 2 and k + 3 while it normalizes rows k
/// and k + 1. A row's sum is one chain of dependent float64 adds per lane (its order fixed, see
/// <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>), bound by the add latency, not by throughput; the normalize
/// is bound by the divider, loads and stores. Apart, a row costs the two passes one after the other (AVX2, [16, 4096]:
/// 6.9 µs + 6.8 µs); here two rows' chains and two rows' divisions share each turn of the loop (1.45× faster than one
/// row beside one, measured in one process on both widths). Every lane does the same operations in the same order as the
/// two separate passes, so the bits are those of <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/> followed by
/// <see cref="HostVectors.Normalize{T}"/> (tests hold them together, odd row counts and blocks included).
/// </summary>
internal static class HostRowPipeline
{
    /// <summary>Rows <paramref name="first"/> to <paramref name="last"/> (exclusive) of x, each of <paramref name="n"/> elements, into y; row s takes weight row s % groups.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int n, int groups, long first, long last, float epsilon)
    {
        if (first >= last)
        {
            return;
        }

        long s = first;
        float d = Denominator(HostVectors.SumOfSquares(Row(x, s, n)), n, epsilon);
        if (last - first >= 4 && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && n >= 64)
        {
            // Two rows at a time: each row's sum is still one chain per lane, but two chains of two rows run side by side,
            // so the adds' latency binds half as hard (on AVX2 the sum alone is latency-bound).
            float d1 = Denominator(HostVectors.SumOfSquares(Row(x, s + 1, n)), n, epsilon);
            for (; s + 3 < last; s += 2)
            {
                var (next0, next1) = w.IsEmpty
                    ? SumTwoAndNormalizeTwo<Unweighted>(x, w, y, n, groups, s, d, d1)
                    : SumTwoAndNormalizeTwo<Weighted>(x, w, y, n, groups, s, d, d1);
                d = Denominator(next0, n, epsilon);
                d1 = Denominator(next1, n, epsilon);
            }

            // Rows s and s + 1 have their denominators; at most one row is left after them (below).
            HostVectors.Normalize(Row(x, s, n), d, Weight(w, s, n, groups), Row(y, s, n));
            HostVectors.Normalize(Row(x, s + 1, n), d1, Weight(w, s + 1, n, groups), Row(y, s + 1, n));
            s += 2;
            if (s == last)
            {
                return;
            }

            d = Denominator(HostVectors.SumOfSquares(Row(x, s, n)), n, epsilon);
        }

        // Fewer than four rows, short rows or no SIMD: one row at a time, the two passes apart.
        while (true)
        {
            HostVectors.Normalize(Row(x, s, n), d, Weight(w, s, n, groups), Row(y, s, n));
            if (++s == last)
            {
                return;
            }

            d = Denominator(HostVectors.SumOfSquares(Row(x, s, n)), n, epsilon);
        }
    }

    /// <summary>The denominator sqrt(Σx² / n + eps) in float32, as every float32 host path computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Denominator(float sumOfSquares, int n, float epsilon) => MathF.Sqrt(sumOfSquares / n + epsilon);

    private static ReadOnlySpan<float> Row(ReadOnlySpan<float> x, long s, int n) => x.Slice(checked((int)(s * n)), n);

    private static Span<float> Row(Span<float> y, long s, int n) => y.Slice(checked((int)(s * n)), n);

    private static ReadOnlySpan<float> Weight(ReadOnlySpan<float> w, long s, int n, int groups) =>
        w.IsEmpty ? default : w.Slice((int)(s % groups) * n, n);

    /// <summary>Σ x² of rows s + 2 and s + 3, and rows s and s + 1 normalized by <paramref name="d0"/> and <paramref name="d1"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Sum0, float Sum1) SumTwoAndNormalizeTwo<TWeight>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int n, int groups, long s, float d0, float d1)
        where TWeight : struct, IWeight
    {
        var next0 = Row(x, s + 2, n);
        var next1 = Row(x, s + 3, n);
        var current0 = Row(x, s, n);
        var current1 = Row(x, s + 1, n);
        var w0 = Weight(w, s, n, groups);
        var w1 = Weight(w, s + 1, n, groups);
        var y0 = Row(y, s, n);
        var y1 = Row(y, s + 1, n);
        ref float pn0 = ref MemoryMarshal.GetReference(next0);
        ref float pn1 = ref MemoryMarshal.GetReference(next1);
        ref float pc0 = ref MemoryMarshal.GetReference(current0);
        ref float pc1 = ref MemoryMarshal.GetReference(current1);
        ref float pw0 = ref MemoryMarshal.GetReference(w0);
        ref float pw1 = ref MemoryMarshal.GetReference(w1);
        ref float py0 = ref MemoryMarshal.GetReference(y0);
        ref float py1 = ref MemoryMarshal.GetReference(y1);
        int i = 0;
        float sum0, sum1;
        if (Vector512.IsHardwareAccelerated)
        {
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            var a2 = Vector512<double>.Zero;
            var a3 = Vector512<double>.Zero;
            var b0 = Vector512<double>.Zero;
            var b1 = Vector512<double>.Zero;
            var b2 = Vector512<double>.Zero;
            var b3 = Vector512<double>.Zero;
            var vd0 = Vector512.Create(d0);
            var vd1 = Vector512.Create(d1);
            for (; i <= n - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn0, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
                (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn0, (nuint)(i + 16)));
                a2 += lo * lo;
                a3 += hi * hi;
                (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn1, (nuint)i));
                b0 += lo * lo;
                b1 += hi * hi;
                (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn1, (nuint)(i + 16)));
                b2 += lo * lo;
                b3 += hi * hi;
                TWeight.Apply(Vector512.LoadUnsafe(ref pc0, (nuint)i) / vd0, ref pw0, i).StoreUnsafe(ref py0, (nuint)i);
                TWeight.Apply(Vector512.LoadUnsafe(ref pc0, (nuint)(i + 16)) / vd0, ref pw0, i + 16).StoreUnsafe(ref py0, (nuint)(i + 16));
                TWeight.Apply(Vector512.LoadUnsafe(ref pc1, (nuint)i) / vd1, ref pw1, i).StoreUnsafe(ref py1, (nuint)i);
                TWeight.Apply(Vector512.LoadUnsafe(ref pc1, (nuint)(i + 16)) / vd1, ref pw1, i + 16).StoreUnsafe(ref py1, (nuint)(i + 16));
            }

            sum0 = FinishSum512(a0, a1, a2, a3, ref pn0, i, n);
            sum1 = FinishSum512(b0, b1, b2, b3, ref pn1, i, n);
        }
        else
        {
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            var b0 = Vector256<double>.Zero;
            var b1 = Vector256<double>.Zero;
            var vd0 = Vector256.Create(d0);
            var vd1 = Vector256.Create(d1);
            for (; i <= n - 16; i += 16)
            {
                a0 = AddSquares(a0, ref pn0, i);
                a1 = AddSquares(a1, ref pn0, i + 4);
                b0 = AddSquares(b0, ref pn1, i);
                b1 = AddSquares(b1, ref pn1, i + 4);
                a0 = AddSquares(a0, ref pn0, i + 8);
                a1 = AddSquares(a1, ref pn0, i + 12);
                b0 = AddSquares(b0, ref pn1, i + 8);
                b1 = AddSquares(b1, ref pn1, i + 12);
                TWeight.Apply(Vector256.LoadUnsafe(ref pc0, (nuint)i) / vd0, ref pw0, i).StoreUnsafe(ref py0, (nuint)i);
                TWeight.Apply(Vector256.LoadUnsafe(ref pc0, (nuint)(i + 8)) / vd0, ref pw0, i + 8).StoreUnsafe(ref py0, (nuint)(i + 8));
                TWeight.Apply(Vector256.LoadUnsafe(ref pc1, (nuint)i) / vd1, ref pw1, i).StoreUnsafe(ref py1, (nuint)i);
                TWeight.Apply(Vector256.LoadUnsafe(ref pc1, (nuint)(i + 8)) / vd1, ref pw1, i + 8).StoreUnsafe(ref py1, (nuint)(i + 8));
            }

            sum0 = FinishSum256(a0, a1, ref pn0, i, n);
            sum1 = FinishSum256(b0, b1, ref pn1, i, n);
        }

        HostVectors.Normalize(current0[i..], d0, w0.IsEmpty ? default : w0[i..], y0[i..]);
        HostVectors.Normalize(current1[i..], d1, w1.IsEmpty ? default : w1[i..], y1[i..]);
        return (sum0, sum1);
    }

    /// <summary>The end of HostVectors.SumOfSquares' Vector512 branch from element <paramref name="i"/> (a multiple of 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishSum512(Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, Vector512<double> a3, ref float p, int i, int n)
    {
        if (i <= n - 16)
        {
            var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
            a0 += lo * lo;
            a1 += hi * hi;
            i += 16;
        }

        double sum = Vector512.Sum((a0 + a2) + (a1 + a3));
        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref p, i);
            sum += v * v;
        }

        return (float)sum;
    }

    /// <summary>The end of HostVectors.SumOfSquares' Vector256 branch from element <paramref name="i"/> (a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishSum256(Vector256<double> a0, Vector256<double> a1, ref float p, int i, int n)
    {
        for (; i <= n - 8; i += 8)
        {
            a0 = AddSquares(a0, ref p, i);
            a1 = AddSquares(a1, ref p, i + 4);
        }

        double sum = Vector256.Sum(a0 + a1);
        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref p, i);
            sum += v * v;
        }

        return (float)sum;
    }

    /// <summary>
    /// a + x², x four float32 values widened to float64 (a widening load: no lane shuffle). The square of a float32 is
    /// exact in float64 (48 significant bits of 53); a fused multiply-add would give the same bits but lengthen each
    /// lane's chain of dependent adds (measured slower).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> AddSquares(Vector256<double> a, ref float x, int i)
    {
        var v = Vector256.WidenLower(Vector128.LoadUnsafe(ref x, (nuint)i).ToVector256Unsafe());
        return a + v * v;
    }

    /// <summary>The weight step of a normalized vector: none, or times the weight.</summary>
    private interface IWeight
    {
        static abstract Vector512<float> Apply(Vector512<float> v, ref float w, int i);

        static abstract Vector256<float> Apply(Vector256<float> v, ref float w, int i);
    }

    private readonly struct Unweighted : IWeight
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> v, ref float w, int i) => v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> v, ref float w, int i) => v;
    }

    private readonly struct Weighted : IWeight
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Apply(Vector512<float> v, ref float w, int i) => v * Vector512.LoadUnsafe(ref w, (nuint)i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Apply(Vector256<float> v, ref float w, int i) => v * Vector256.LoadUnsafe(ref w, (nuint)i);
    }
}
