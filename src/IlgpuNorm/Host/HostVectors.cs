using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuNorm.Host;

/// <summary>
/// SIMD building blocks of the host path. Marked AggressiveOptimization: they go straight to optimized
/// code instead of starting as unoptimized tier-0 code, which ran 4–5× slower for the first calls. Sums use a fixed set of accumulators combined in a fixed
/// order, so a row's result depends only on its data and this machine's vector width.
/// </summary>
internal static class HostVectors
{
    /// <summary>
    /// Σ x² of float32 values, accumulated in float64 lanes and returned rounded to float32. The policy's float32
    /// accumulation fixes no order; a float32 accumulator lost up to ~7 units of 2^-24 on rows where one large value
    /// dominates (seen in verify: 5 ulp against a 4-ulp budget), float64 lanes lose none that matter, at the cost of
    /// one widening per 8 elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            // Four independent accumulators: with two, the adds' latency bound the loop (2.7 vs 1.9 us per 64K floats in L2).
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            var a2 = Vector512<double>.Zero;
            var a3 = Vector512<double>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
                (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)(i + 16)));
                a2 += lo * lo;
                a3 += hi * hi;
            }

            if (i <= n - 16)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
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
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref p, (nuint)i));
                a0 += lo * lo;
                a1 += hi * hi;
            }

            sum = Vector256.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref p, i);
            sum += v * v;
        }

        return (float)sum;
    }

    /// <summary>Σ x² in float64, compensated (Neumaier) lane by lane, so float64 rows are accurate at any length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<double> x)
    {
        ref double p = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        var total = default(Kernels.CompensatedSum);
        if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            var sum = Vector256<double>.Zero;
            var error = Vector256<double>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var v = Vector256.LoadUnsafe(ref p, (nuint)i);
                var square = v * v;
                var t = sum + square;

                // Both operands are >= 0, so |sum| >= |square| is sum >= square.
                error += Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(sum, square), (sum - t) + square, (square - t) + sum);
                sum = t;
            }

            for (int lane = 0; lane < Vector256<double>.Count; lane++)
            {
                double laneSum = sum.GetElement(lane);
                total = total.Add(laneSum);
                if (double.IsFinite(laneSum))
                {
                    total = total.Add(error.GetElement(lane)); // an infinite lane's error is NaN: drop it
                }
            }
        }

        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref p, i);
            total = total.Add(v * v);
        }

        return total.Value;
    }

    /// <summary>
    /// Calls whose x and y together exceed this many bytes (the last-level cache, read from Linux's sysfs; 32 MiB
    /// elsewhere) write y with non-temporal stores: y would not stay in cache anyway, and streaming stores skip reading
    /// each y line before writing it (measured on [4096, 4096] float32, 2 threads: 55 GB/s against 47 GB/s).
    /// </summary>
    internal static long StreamingThresholdBytes { get; } = LastLevelCacheBytes();

    /// <summary>Whether a call moving <paramref name="bytes"/> (x read + y written) should stream its stores.</summary>
    public static bool ShouldStream(long bytes) => bytes > StreamingThresholdBytes;

    /// <summary>y = x / d, or y = (x / d) * w, each step rounded to <typeparamref name="T"/> (float32 or float64).</summary>
    /// <param name="x">The row.</param>
    /// <param name="d">The denominator.</param>
    /// <param name="w">The weight, or empty.</param>
    /// <param name="y">The output (may be x).</param>
    /// <param name="streaming">Write y with non-temporal stores and prefetch the next row (rows that come from memory).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Normalize<T>(ReadOnlySpan<T> x, T d, ReadOnlySpan<T> w, Span<T> y, bool streaming = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (streaming && Sse.IsSupported && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && x.Length >= 2 * Vector512<T>.Count)
        {
            fixed (T* px0 = x, pw0 = w, py0 = y)
            {
                NormalizeStreaming(px0, d, w.IsEmpty ? null : pw0, py0, x.Length);
            }

            return;
        }

        ref T px = ref MemoryMarshal.GetReference(x);
        ref T py = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        bool scale = !w.IsEmpty;
        ref T pw = ref MemoryMarshal.GetReference(w);
        if (Vector512.IsHardwareAccelerated)
        {
            // Two loops rather than a test per vector.
            var vd = Vector512.Create(d);
            if (scale)
            {
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    (Vector512.LoadUnsafe(ref px, (nuint)i) / vd * Vector512.LoadUnsafe(ref pw, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
                }
            }
            else
            {
                for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    (Vector512.LoadUnsafe(ref px, (nuint)i) / vd).StoreUnsafe(ref py, (nuint)i);
                }
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var vd = Vector256.Create(d);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref px, (nuint)i) / vd;
                if (scale)
                {
                    v *= Vector256.LoadUnsafe(ref pw, (nuint)i);
                }

                v.StoreUnsafe(ref py, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref px, i) / d;
            Unsafe.Add(ref py, i) = scale ? v * Unsafe.Add(ref pw, i) : v;
        }
    }

    /// <summary>
    /// <see cref="Normalize{T}"/> with 64-byte aligned non-temporal stores (the head up to alignment and the tail with
    /// ordinary ones) and a prefetch of the next row's x, so that its reads overlap this row's writes. The same
    /// arithmetic, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NormalizeStreaming<T>(T* x, T d, T* w, T* y, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        for (; i < n && ((nuint)(y + i) & 63) != 0; i++)
        {
            T v = x[i] / d;
            y[i] = w is null ? v : v * w[i];
        }

        if (Vector512.IsHardwareAccelerated)
        {
            var vd = Vector512.Create(d);
            int step = Vector512<T>.Count;
            if (w is null)
            {
                for (; i <= n - step; i += step)
                {
                    Sse.Prefetch0(x + n + i); // the next row, for contiguous rows; a prefetch never faults
                    Vector512.StoreAlignedNonTemporal(Vector512.Load(x + i) / vd, y + i);
                }
            }
            else
            {
                for (; i <= n - step; i += step)
                {
                    Sse.Prefetch0(x + n + i);
                    Vector512.StoreAlignedNonTemporal(Vector512.Load(x + i) / vd * Vector512.Load(w + i), y + i);
                }
            }
        }
        else
        {
            // AVX2: two 32-byte stores per 64-byte line, so every line is still written whole.
            var vd = Vector256.Create(d);
            int step = Vector256<T>.Count;
            for (; i <= n - 2 * step; i += 2 * step)
            {
                Sse.Prefetch0(x + n + i);
                var v0 = Vector256.Load(x + i) / vd;
                var v1 = Vector256.Load(x + i + step) / vd;
                if (w is not null)
                {
                    v0 *= Vector256.Load(w + i);
                    v1 *= Vector256.Load(w + i + step);
                }

                Vector256.StoreAlignedNonTemporal(v0, y + i);
                Vector256.StoreAlignedNonTemporal(v1, y + i + step);
            }
        }

        for (; i < n; i++)
        {
            T v = x[i] / d;
            y[i] = w is null ? v : v * w[i];
        }

        Sse.StoreFence(); // order the streaming stores before whatever the caller does next
    }

    private static long LastLevelCacheBytes()
    {
        const long Fallback = 32L << 20;
        try
        {
            foreach (string index in new[] { "index3", "index2" })
            {
                string path = $"/sys/devices/system/cpu/cpu0/cache/{index}/size";
                if (File.Exists(path))
                {
                    string text = File.ReadAllText(path).Trim();
                    long scale = text.EndsWith('K') ? 1L << 10 : text.EndsWith('M') ? 1L << 20 : 1;
                    if (long.TryParse(text.TrimEnd('K', 'M'), out long value) && value > 0)
                    {
                        return value * scale;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Fallback;
    }
}
