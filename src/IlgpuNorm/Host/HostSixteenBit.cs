using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using IlgpuNorm.Kernels;

namespace IlgpuNorm.Host;

/// <summary>
/// float16 and bfloat16 rows in one pass each, converting in registers (32 elements per step) instead of through a
/// float32 buffer: the sum of squares reads the 16-bit row once, and the normalize step widens, divides, rounds,
/// multiplies by the weight, rounds again and stores, all without leaving the registers.
/// </summary>
/// <remarks>
/// .NET 10 exposes no F16C or AVX-512 FP16/BF16 conversion intrinsics, so the conversions are integer and float
/// arithmetic: exact widening, round-to-nearest-even narrowing, bit for bit the kernels' <see cref="HalfBits"/>
/// (a NaN becomes the quiet NaN 0x7E00 with its sign for float16, and keeps its upper bits with the quiet bit set for
/// bfloat16). The sums of squares accumulate in float64 lanes in the same order as
/// <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/> over the widened row, so the results are those of the
/// widen-then-sum path, bit for bit. Vector512 only: other machines keep the buffered path.
/// </remarks>
internal static class HostSixteenBit
{
    /// <summary>Whether the fused path runs here (Vector512 hardware).</summary>
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

    /// <summary>Σ x² of a float16 row (bits), as the float32 path sums the widened row.</summary>
    public static float SumOfSquaresFloat16(ReadOnlySpan<ushort> x) => SumOfSquares<Float16Lanes>(x);

    /// <summary>Σ x² of a bfloat16 row (bits), as the float32 path sums the widened row.</summary>
    public static float SumOfSquaresBFloat16(ReadOnlySpan<ushort> x) => SumOfSquares<BFloat16Lanes>(x);

    /// <summary>y = (T)(x / d), then with a weight y = (T)(y · w) (w already widened to float32).</summary>
    public static void NormalizeFloat16(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y) =>
        Normalize<Float16Lanes>(x, d, w, y);

    /// <summary>y = (T)(x / d), then with a weight y = (T)(y · w) (w already widened to float32).</summary>
    public static void NormalizeBFloat16(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y) =>
        Normalize<BFloat16Lanes>(x, d, w, y);

    /// <summary>Widens 16-bit values to float32 (exactly).</summary>
    public static void WidenFloat16(ReadOnlySpan<ushort> x, Span<float> y) => Widen<Float16Lanes>(x, y);

    /// <summary>Rounds float32 values to float16 bits (nearest even).</summary>
    public static void RoundFloat16(ReadOnlySpan<float> x, Span<ushort> y) => Round<Float16Lanes>(x, y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumOfSquares<TLanes>(ReadOnlySpan<ushort> x)
        where TLanes : struct, ILanes
    {
        ref ushort p = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        var a0 = Vector512<double>.Zero;
        var a1 = Vector512<double>.Zero;
        var a2 = Vector512<double>.Zero;
        var a3 = Vector512<double>.Zero;
        for (; i <= n - 32; i += 32)
        {
            var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref p, (nuint)i));
            var (l0, l1) = Vector512.Widen(TLanes.Widen(lo));
            a0 += l0 * l0;
            a1 += l1 * l1;
            var (h0, h1) = Vector512.Widen(TLanes.Widen(hi));
            a2 += h0 * h0;
            a3 += h1 * h1;
        }

        if (i <= n - 16)
        {
            var (l0, l1) = Vector512.Widen(TLanes.Widen(Load16(ref p, i)));
            a0 += l0 * l0;
            a1 += l1 * l1;
            i += 16;
        }

        double sum = n >= 16 ? Vector512.Sum((a0 + a2) + (a1 + a3)) : 0;
        for (; i < n; i++)
        {
            double v = TLanes.Widen(Unsafe.Add(ref p, i));
            sum += v * v;
        }

        return (float)sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalize<TLanes>(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y)
        where TLanes : struct, ILanes
    {
        ref ushort px = ref MemoryMarshal.GetReference(x);
        ref ushort py = ref MemoryMarshal.GetReference(y);
        ref float pw = ref MemoryMarshal.GetReference(w);
        int n = x.Length;
        int i = 0;
        var vd = Vector512.Create(d);

        // 16 lanes a step, one conversion each way per loop: a loop with more conversions did not get them all inlined
        // (the JIT's inlining budget) and ran 3-4x slower. With a weight, a second loop over the (L1-resident) output
        // multiplies and rounds again.
        for (; i <= n - 16; i += 16)
        {
            Store16(TLanes.Round(TLanes.Widen(Load16(ref px, i)) / vd), ref py, i);
        }

        if (!w.IsEmpty)
        {
            for (int j = 0; j < i; j += 16)
            {
                Store16(TLanes.Round(TLanes.Widen(Load16(ref py, j)) * Vector512.LoadUnsafe(ref pw, (nuint)j)), ref py, j);
            }
        }

        for (; i < n; i++)
        {
            ushort r = TLanes.Round(TLanes.Widen(Unsafe.Add(ref px, i)) / d);
            Unsafe.Add(ref py, i) = w.IsEmpty ? r : TLanes.Round(TLanes.Widen(r) * Unsafe.Add(ref pw, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TLanes>(ReadOnlySpan<ushort> x, Span<float> y)
        where TLanes : struct, ILanes
    {
        ref ushort px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
            TLanes.Widen(lo).StoreUnsafe(ref py, (nuint)i);
            TLanes.Widen(hi).StoreUnsafe(ref py, (nuint)(i + 16));
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref py, i) = TLanes.Widen(Unsafe.Add(ref px, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Round<TLanes>(ReadOnlySpan<float> x, Span<ushort> y)
        where TLanes : struct, ILanes
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref ushort py = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            var lo = TLanes.Round(Vector512.LoadUnsafe(ref px, (nuint)i));
            var hi = TLanes.Round(Vector512.LoadUnsafe(ref px, (nuint)(i + 16)));
            Vector512.Narrow(lo, hi).StoreUnsafe(ref py, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref py, i) = TLanes.Round(Unsafe.Add(ref px, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Load16(ref ushort p, int i) =>
        Vector512.WidenLower(Vector256.LoadUnsafe(ref p, (nuint)i).ToVector512Unsafe());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector512<uint> bits, ref ushort p, int i) =>
        Vector512.Narrow(bits, bits).GetLower().StoreUnsafe(ref p, (nuint)i);

    /// <summary>A 16-bit format's conversions on 16 lanes (bits zero-extended to uint) and on one value.</summary>
    private interface ILanes
    {
        static abstract Vector512<float> Widen(Vector512<uint> bits);

        static abstract Vector512<uint> Round(Vector512<float> value);

        static abstract float Widen(ushort bits);

        static abstract ushort Round(float value);
    }

    /// <summary>IEEE float16, as <see cref="HalfBits.HalfToSingle"/> and <see cref="HalfBits.SingleToHalf"/>.</summary>
    private readonly struct Float16Lanes : ILanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen(Vector512<uint> h)
        {
            // Finite values: the exponent and mantissa moved into float position and scaled by 2^112, one exact multiply
            // that also normalizes subnormals. Inf and NaN: exponent forced to all ones, mantissa kept.
            var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
            var finite = (magnitude.AsSingle() * Vector512.Create((127u + 112) << 23).AsSingle()).AsUInt32();
            var special = magnitude | Vector512.Create(0x7F80_0000u);
            var isSpecial = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u << 13));
            var sign = (h & Vector512.Create(0x8000u)) << 16;
            return (Vector512.ConditionalSelect(isSpecial, special, finite) | sign).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<uint> Round(Vector512<float> value)
        {
            const uint DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
            var bits = value.AsUInt32();
            var sign = (bits >> 16) & Vector512.Create(0x8000u);
            var f = bits & Vector512.Create(0x7FFF_FFFFu);

            var big = Vector512.ConditionalSelect(
                Vector512.GreaterThan(f, Vector512.Create(0x7F80_0000u)), Vector512.Create(0x7E00u), Vector512.Create(0x7C00u));
            var small = (f.AsSingle() + Vector512.Create(DenormMagic).AsSingle()).AsUInt32() - Vector512.Create(DenormMagic);
            var normal = (f + Vector512.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + ((f >> 13) & Vector512<uint>.One)) >> 13;

            var o = Vector512.ConditionalSelect(Vector512.LessThan(f, Vector512.Create(113u << 23)), small, normal);
            o = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(f, Vector512.Create((127u + 16) << 23)), big, o);
            return o | sign;
        }

        public static float Widen(ushort bits) => HalfBits.HalfToSingle(bits);

        public static ushort Round(float value) => HalfBits.SingleToHalf(value);
    }

    /// <summary>bfloat16, as <see cref="HalfBits.BFloat16ToSingle"/> and <see cref="HalfBits.SingleToBFloat16"/>.</summary>
    private readonly struct BFloat16Lanes : ILanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Widen(Vector512<uint> bits) => (bits << 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<uint> Round(Vector512<float> value)
        {
            var bits = value.AsUInt32();
            var rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
            var nan = (bits >> 16) | Vector512.Create(0x40u);
            var isNaN = Vector512.GreaterThan(bits & Vector512.Create(0x7FFF_FFFFu), Vector512.Create(0x7F80_0000u));
            return Vector512.ConditionalSelect(isNaN, nan, rounded);
        }

        public static float Widen(ushort bits) => HalfBits.BFloat16ToSingle(bits);

        public static ushort Round(float value) => HalfBits.SingleToBFloat16(value);
    }
}
