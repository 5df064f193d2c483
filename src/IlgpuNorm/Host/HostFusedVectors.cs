using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuNorm.Host;

/// <summary>SIMD helpers of the fused residual add on the host (kept apart from <see cref="HostVectors"/>).</summary>
internal static class HostFusedVectors
{
    /// <summary>
    /// <c>residual = x + residual</c> (float32) and Σ residual² of the new values in one pass. The sum uses exactly the lanes,
    /// accumulators and order of <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>, so it returns the same bits as
    /// the add followed by that sum (a test holds the two together).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float AddAndSumOfSquares(ReadOnlySpan<float> x, Span<float> residual)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pr = ref MemoryMarshal.GetReference(residual);
        int n = x.Length;
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            var a2 = Vector512<double>.Zero;
            var a3 = Vector512<double>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var s = Vector512.LoadUnsafe(ref px, (nuint)i) + Vector512.LoadUnsafe(ref pr, (nuint)i);
                s.StoreUnsafe(ref pr, (nuint)i);
                var (lo, hi) = Vector512.Widen(s);
                a0 += lo * lo;
                a1 += hi * hi;
                s = Vector512.LoadUnsafe(ref px, (nuint)(i + 16)) + Vector512.LoadUnsafe(ref pr, (nuint)(i + 16));
                s.StoreUnsafe(ref pr, (nuint)(i + 16));
                (lo, hi) = Vector512.Widen(s);
                a2 += lo * lo;
                a3 += hi * hi;
            }

            if (i <= n - 16)
            {
                var s = Vector512.LoadUnsafe(ref px, (nuint)i) + Vector512.LoadUnsafe(ref pr, (nuint)i);
                s.StoreUnsafe(ref pr, (nuint)i);
                var (lo, hi) = Vector512.Widen(s);
                a0 += lo * lo;
                a1 += hi * hi;
                i += 16;
            }

            sum = Vector512.Sum((a0 + a2) + (a1 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var s = Vector256.LoadUnsafe(ref px, (nuint)i) + Vector256.LoadUnsafe(ref pr, (nuint)i);
                s.StoreUnsafe(ref pr, (nuint)i);
                var (lo, hi) = Vector256.Widen(s);
                a0 += lo * lo;
                a1 += hi * hi;
            }

            sum = Vector256.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            float s = Unsafe.Add(ref px, i) + Unsafe.Add(ref pr, i);
            Unsafe.Add(ref pr, i) = s;
            double v = s;
            sum += v * v;
        }

        return (float)sum;
    }
}
