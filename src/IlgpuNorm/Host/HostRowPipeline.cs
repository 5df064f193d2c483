using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuNorm.Host;

/// <summary>
/// float32 rows two at a time: one loop sums the squares of row k + 1 while it normalizes row k. The sum is a chain of
/// float64 adds per lane (its order fixed, see <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>), bound by the
/// add latency; the normalize is bound by the divider and the loads and stores. Apart, a row costs the two one after the
/// other (on AVX2, [16, 4096]: 6.9 µs + 6.8 µs); together they overlap. Every lane does the same operations in the same
/// order as the two separate passes, so the bits are those of <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>
/// followed by <see cref="HostVectors.Normalize{T}"/> (a test holds them together).
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

        float d = Denominator(HostVectors.SumOfSquares(Row(x, first, n)), n, epsilon);
        for (long s = first; s + 1 < last; s++)
        {
            ReadOnlySpan<float> ws = w.IsEmpty ? default : w.Slice((int)(s % groups) * n, n);
            float next = w.IsEmpty
                ? SumNextAndNormalize<Unweighted>(Row(x, s + 1, n), Row(x, s, n), d, ws, Row(y, s, n))
                : SumNextAndNormalize<Weighted>(Row(x, s + 1, n), Row(x, s, n), d, ws, Row(y, s, n));
            d = Denominator(next, n, epsilon);
        }

        HostVectors.Normalize(Row(x, last - 1, n), d, w.IsEmpty ? default : w.Slice((int)((last - 1) % groups) * n, n), Row(y, last - 1, n));
    }

    /// <summary>The denominator sqrt(Σx² / n + eps) in float32, as every float32 host path computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Denominator(float sumOfSquares, int n, float epsilon) => MathF.Sqrt(sumOfSquares / n + epsilon);

    private static ReadOnlySpan<float> Row(ReadOnlySpan<float> x, long s, int n) => x.Slice(checked((int)(s * n)), n);

    private static Span<float> Row(Span<float> y, long s, int n) => y.Slice(checked((int)(s * n)), n);

    /// <summary>Returns Σ next² (as <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>) and writes y = current / d (· w).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumNextAndNormalize<TWeight>(ReadOnlySpan<float> next, ReadOnlySpan<float> current, float d, ReadOnlySpan<float> w, Span<float> y)
        where TWeight : struct, IWeight
    {
        ref float pn = ref MemoryMarshal.GetReference(next);
        ref float pc = ref MemoryMarshal.GetReference(current);
        ref float pw = ref MemoryMarshal.GetReference(w);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = next.Length;
        int i = 0;
        double sum;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            // The lanes and accumulators of HostVectors.SumOfSquares' Vector512 branch, step for step.
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            var a2 = Vector512<double>.Zero;
            var a3 = Vector512<double>.Zero;
            var vd = Vector512.Create(d);
            for (; i <= n - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
                (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn, (nuint)(i + 16)));
                a2 += lo * lo;
                a3 += hi * hi;
                TWeight.Apply(Vector512.LoadUnsafe(ref pc, (nuint)i) / vd, ref pw, i).StoreUnsafe(ref py, (nuint)i);
                TWeight.Apply(Vector512.LoadUnsafe(ref pc, (nuint)(i + 16)) / vd, ref pw, i + 16).StoreUnsafe(ref py, (nuint)(i + 16));
            }

            int normalized = i;
            if (i <= n - 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref pn, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
                i += 16;
            }

            sum = Vector512.Sum((a0 + a2) + (a1 + a3));
            for (; i < n; i++)
            {
                double v = Unsafe.Add(ref pn, i);
                sum += v * v;
            }

            HostVectors.Normalize(current[normalized..], d, w.IsEmpty ? default : w[normalized..], y[normalized..]);
            return (float)sum;
        }

        if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            // The lanes and accumulators of HostVectors.SumOfSquares' Vector256 branch, step for step (two steps a turn).
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            var vd = Vector256.Create(d);
            for (; i <= n - 16; i += 16)
            {
                a0 = AddSquares(a0, ref pn, i);
                a1 = AddSquares(a1, ref pn, i + 4);
                a0 = AddSquares(a0, ref pn, i + 8);
                a1 = AddSquares(a1, ref pn, i + 12);
                TWeight.Apply(Vector256.LoadUnsafe(ref pc, (nuint)i) / vd, ref pw, i).StoreUnsafe(ref py, (nuint)i);
                TWeight.Apply(Vector256.LoadUnsafe(ref pc, (nuint)(i + 8)) / vd, ref pw, i + 8).StoreUnsafe(ref py, (nuint)(i + 8));
            }

            int normalized = i;
            if (i <= n - 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref pn, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
                i += 8;
            }

            sum = Vector256.Sum(a0 + a1);
            for (; i < n; i++)
            {
                double v = Unsafe.Add(ref pn, i);
                sum += v * v;
            }

            HostVectors.Normalize(current[normalized..], d, w.IsEmpty ? default : w[normalized..], y[normalized..]);
            return (float)sum;
        }

        float result = HostVectors.SumOfSquares(next);
        HostVectors.Normalize(current, d, w, y);
        return result;
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
