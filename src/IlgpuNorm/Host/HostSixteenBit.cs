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
    /// <summary>Whether the fused path runs here (Vector512 or Vector256 hardware).</summary>
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated;

    /// <summary>Σ x² of a float16 row (bits), as the float32 path sums the widened row.</summary>
    public static float SumOfSquaresFloat16(ReadOnlySpan<ushort> x) => SumOfSquares<Float16Lanes>(x);

    /// <summary>Σ x² of a bfloat16 row (bits), as the float32 path sums the widened row.</summary>
    public static float SumOfSquaresBFloat16(ReadOnlySpan<ushort> x) => SumOfSquares<BFloat16Lanes>(x);

    /// <summary>y = (T)(x / d), then with a weight y = (T)(y · w) (w already widened to float32).</summary>
    public static void NormalizeFloat16(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y)
    {
        if (w.IsEmpty || !Vector512.IsHardwareAccelerated)
        {
            Normalize<Float16Lanes>(x, d, w, y);
        }
        else
        {
            NormalizeWeightedFloat16(x, d, w, y);
        }
    }

    /// <summary>y = (T)(x / d), then with a weight y = (T)(y · w) (w already widened to float32).</summary>
    public static void NormalizeBFloat16(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y) =>
        Normalize<BFloat16Lanes>(x, d, w, y);

    /// <summary>Widens 16-bit values to float32 (exactly).</summary>
    public static void WidenFloat16(ReadOnlySpan<ushort> x, Span<float> y) => Widen<Float16Lanes>(x, y);

    /// <summary>Rounds float32 values to float16 precision, kept as float32 (Widen(Round(x)), bit for bit).</summary>
    public static void QuantizeFloat16(ReadOnlySpan<float> x, Span<float> y) => Quantize<Float16Lanes>(x, y);

    /// <summary>Rounds float32 values to bfloat16 precision, kept as float32 (Widen(Round(x)), bit for bit).</summary>
    public static void QuantizeBFloat16(ReadOnlySpan<float> x, Span<float> y) => Quantize<BFloat16Lanes>(x, y);

    /// <summary>Widens bfloat16 bits to float32 (a shift).</summary>
    public static void WidenBFloat16(ReadOnlySpan<ushort> x, Span<float> y) => Widen<BFloat16Lanes>(x, y);

    /// <summary>Rounds float32 values to bfloat16 bits (nearest even; a NaN keeps its upper bits, quieted).</summary>
    public static void RoundBFloat16(ReadOnlySpan<float> x, Span<ushort> y) => Round<BFloat16Lanes>(x, y);

    /// <summary>Rounds float32 values to float16 bits (nearest even).</summary>
    public static void RoundFloat16(ReadOnlySpan<float> x, Span<ushort> y) => Round<Float16Lanes>(x, y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SumOfSquares<TLanes>(ReadOnlySpan<ushort> x)
        where TLanes : struct, ILanes
    {
        // The branches, lanes and accumulators of HostVectors.SumOfSquares(ReadOnlySpan<float>), step for step.
        ref ushort p = ref MemoryMarshal.GetReference(x);
        int n = x.Length;
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
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

            sum = Vector512.Sum((a0 + a2) + (a1 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(TLanes.Widen(Load8(ref p, i)));
                a0 += lo * lo;
                a1 += hi * hi;
            }

            sum = Vector256.Sum(a0 + a1);
        }

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

        // 16 lanes a step. With a weight, (T)(x/d) is rounded to the format in float32 (Quantize: the value Round then
        // Widen would give, in a third of the operations), multiplied and rounded once to bits. Loops with more conversions
        // did not get them all inlined (the JIT's inlining budget) and ran 3-4x slower.
        if (Vector512.IsHardwareAccelerated)
        {
            if (w.IsEmpty)
            {
                for (; i <= n - 16; i += 16)
                {
                    Store16(TLanes.Round(TLanes.Widen(Load16(ref px, i)) / vd), ref py, i);
                }
            }
            else
            {
                for (; i <= n - 16; i += 16)
                {
                    var q = TLanes.Quantize(TLanes.Widen(Load16(ref px, i)) / vd);
                    Store16(TLanes.Round(q * Vector512.LoadUnsafe(ref pw, (nuint)i)), ref py, i);
                }
            }
        }
        else
        {
            // 8 lanes a step: the same operations on Vector256 (AVX2).
            var vd8 = Vector256.Create(d);
            if (w.IsEmpty)
            {
                for (; i <= n - 8; i += 8)
                {
                    Store8(TLanes.Round(TLanes.Widen(Load8(ref px, i)) / vd8), ref py, i);
                }
            }
            else
            {
                for (; i <= n - 8; i += 8)
                {
                    var q = TLanes.Quantize(TLanes.Widen(Load8(ref px, i)) / vd8);
                    Store8(TLanes.Round(q * Vector256.LoadUnsafe(ref pw, (nuint)i)), ref py, i);
                }
            }
        }

        for (; i < n; i++)
        {
            ushort r = TLanes.Round(TLanes.Widen(Unsafe.Add(ref px, i)) / d);
            Unsafe.Add(ref py, i) = w.IsEmpty ? r : TLanes.Round(TLanes.Widen(r) * Unsafe.Add(ref pw, i));
        }
    }

    /// <summary>
    /// The weighted float16 row, written out in one body: the generic loop's three conversion calls exceeded the JIT's
    /// inlining budget for float16 (two stayed calls, 0.55 ns per element); here nothing needs inlining. The same
    /// operations as <see cref="Float16Lanes.Widen(Vector512{uint})"/>, <see cref="Float16Lanes.Quantize(Vector512{float})"/> and
    /// <see cref="Float16Lanes.Round(Vector512{float})"/>, so the same bits (tests compare it with the buffered path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormalizeWeightedFloat16(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, Span<ushort> y)
    {
        const uint DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
        ref ushort px = ref MemoryMarshal.GetReference(x);
        ref ushort py = ref MemoryMarshal.GetReference(y);
        ref float pw = ref MemoryMarshal.GetReference(w);
        int n = x.Length;
        int i = 0;
        var vd = Vector512.Create(d);
        var signMask = Vector512.Create(0x8000_0000u);
        var absMask = Vector512.Create(0x7FFF_FFFFu);
        var infinity = Vector512.Create(0x7F80_0000u);
        for (; i <= n - 16; i += 16)
        {
            // Widen.
            var h = Load16(ref px, i);
            var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
            var finite = (magnitude.AsSingle() * Vector512.Create((127u + 112) << 23).AsSingle()).AsUInt32();
            var isSpecial = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u << 13));
            var v = (Vector512.ConditionalSelect(isSpecial, magnitude | infinity, finite) | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle() / vd;

            // Quantize to float16 precision in float32, then times the weight.
            var bits = v.AsUInt32();
            var sign = bits & signMask;
            var exponent = Vector512.Min(Vector512.Max((bits >> 23) & Vector512.Create(0xFFu), Vector512.Create(127u - 14)), Vector512.Create(127u + 15));
            var c = (((exponent + Vector512.Create(13u)) << 23) | Vector512.Create(0x40_0000u)).AsSingle();
            var abs = bits & absMask;
            var overflow = Vector512.GreaterThanOrEqual(abs, Vector512.Create(0x477F_F000u)) & Vector512.LessThanOrEqual(abs, infinity);
            var q = Vector512.ConditionalSelect(overflow, sign | infinity, ((v + c) - c).AsUInt32() | sign).AsSingle();
            var p = (q * Vector512.LoadUnsafe(ref pw, (nuint)i)).AsUInt32();

            // Round to float16 bits.
            var pSign = (p >> 16) & Vector512.Create(0x8000u);
            var f = p & absMask;
            var big = Vector512.ConditionalSelect(Vector512.GreaterThan(f, infinity), Vector512.Create(0x7E00u), Vector512.Create(0x7C00u));
            var small = (f.AsSingle() + Vector512.Create(DenormMagic).AsSingle()).AsUInt32() - Vector512.Create(DenormMagic);
            var normal = (f + Vector512.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + ((f >> 13) & Vector512<uint>.One)) >> 13;
            var o = Vector512.ConditionalSelect(Vector512.LessThan(f, Vector512.Create(113u << 23)), small, normal);
            o = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(f, Vector512.Create((127u + 16) << 23)), big, o);
            Store16(o | pSign, ref py, i);
        }

        for (; i < n; i++)
        {
            ushort r = HalfBits.SingleToHalf(HalfBits.HalfToSingle(Unsafe.Add(ref px, i)) / d);
            Unsafe.Add(ref py, i) = HalfBits.SingleToHalf(HalfBits.HalfToSingle(r) * Unsafe.Add(ref pw, i));
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
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 32; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref px, (nuint)i));
                TLanes.Widen(lo).StoreUnsafe(ref py, (nuint)i);
                TLanes.Widen(hi).StoreUnsafe(ref py, (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8)
            {
                TLanes.Widen(Load8(ref px, i)).StoreUnsafe(ref py, (nuint)i);
            }
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
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 32; i += 32)
            {
                var lo = TLanes.Round(Vector512.LoadUnsafe(ref px, (nuint)i));
                var hi = TLanes.Round(Vector512.LoadUnsafe(ref px, (nuint)(i + 16)));
                Vector512.Narrow(lo, hi).StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16)
            {
                var lo = TLanes.Round(Vector256.LoadUnsafe(ref px, (nuint)i));
                var hi = TLanes.Round(Vector256.LoadUnsafe(ref px, (nuint)(i + 8)));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref py, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref py, i) = TLanes.Round(Unsafe.Add(ref px, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Quantize<TLanes>(ReadOnlySpan<float> x, Span<float> y)
        where TLanes : struct, ILanes
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            TLanes.Quantize(Vector512.LoadUnsafe(ref px, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref py, i) = TLanes.Widen(TLanes.Round(Unsafe.Add(ref px, i)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Load16(ref ushort p, int i) =>
        Vector512.WidenLower(Vector256.LoadUnsafe(ref p, (nuint)i).ToVector512Unsafe());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Load8(ref ushort p, int i) =>
        Vector256.WidenLower(Vector128.LoadUnsafe(ref p, (nuint)i).ToVector256Unsafe());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<uint> bits, ref ushort p, int i) =>
        Vector256.Narrow(bits, bits).GetLower().StoreUnsafe(ref p, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector512<uint> bits, ref ushort p, int i) =>
        Vector512.Narrow(bits, bits).GetLower().StoreUnsafe(ref p, (nuint)i);

    /// <summary>A 16-bit format's conversions on 16 lanes (bits zero-extended to uint) and on one value.</summary>
    private interface ILanes
    {
        static abstract Vector512<float> Widen(Vector512<uint> bits);

        static abstract Vector512<uint> Round(Vector512<float> value);

        /// <summary>The value rounded to the format (nearest even) and widened back: Widen(Round(value)), bit for bit.</summary>
        static abstract Vector512<float> Quantize(Vector512<float> value);

        static abstract Vector256<float> Widen(Vector256<uint> bits);

        static abstract Vector256<uint> Round(Vector256<float> value);

        static abstract Vector256<float> Quantize(Vector256<float> value);

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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Quantize(Vector512<float> value)
        {
            // (v + c) - c with c = 1.5 * 2^(e + 13), e = v's exponent clamped to float16's [-14, 15]: the sum's last bit is
            // worth float16's quantum 2^(e - 10) at v's binade (2^-24 below it, the subnormals), so the float addition rounds v
            // to float16 precision, ties to even (c's mantissa is even in those units), and the subtraction is exact.
            // |v| >= 65520 rounds to infinity; NaN stays NaN (with its sign, as Widen(Round(NaN)) keeps it).
            var bits = value.AsUInt32();
            var exponent = Vector512.Min(Vector512.Max((bits >> 23) & Vector512.Create(0xFFu), Vector512.Create(127u - 14)), Vector512.Create(127u + 15));
            var c = (((exponent + Vector512.Create(13u)) << 23) | Vector512.Create(0x40_0000u)).AsSingle();
            var sign = bits & Vector512.Create(0x8000_0000u);
            var rounded = ((value + c) - c).AsUInt32() | sign; // a value that rounds to zero keeps its sign
            var magnitude = bits & Vector512.Create(0x7FFF_FFFFu);
            var overflow = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x477F_F000u)) & Vector512.LessThanOrEqual(magnitude, Vector512.Create(0x7F80_0000u));
            return Vector512.ConditionalSelect(overflow, sign | Vector512.Create(0x7F80_0000u), rounded).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen(Vector256<uint> h)
        {
            var magnitude = (h & Vector256.Create(0x7FFFu)) << 13;
            var finite = (magnitude.AsSingle() * Vector256.Create((127u + 112) << 23).AsSingle()).AsUInt32();
            var special = magnitude | Vector256.Create(0x7F80_0000u);
            var isSpecial = Vector256.GreaterThanOrEqual(magnitude.AsInt32(), Vector256.Create(0x7C00 << 13)).AsUInt32();
            var sign = (h & Vector256.Create(0x8000u)) << 16;
            return (Vector256.ConditionalSelect(isSpecial, special, finite) | sign).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<uint> Round(Vector256<float> value)
        {
            // As the Vector512 overload; the magnitudes are below 2^31, so the compares are signed (one AVX2 instruction).
            const int DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
            var bits = value.AsUInt32();
            var sign = (bits >> 16) & Vector256.Create(0x8000u);
            var f = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32();

            var big = Vector256.ConditionalSelect(Vector256.GreaterThan(f, Vector256.Create(0x7F80_0000)), Vector256.Create(0x7E00), Vector256.Create(0x7C00));
            var small = (f.AsSingle() + Vector256.Create(DenormMagic).AsSingle()).AsInt32() - Vector256.Create(DenormMagic);
            var normal = (f + Vector256.Create(((15 - 127) << 23) + 0xFFF) + ((f >> 13) & Vector256<int>.One)) >> 13;

            var o = Vector256.ConditionalSelect(Vector256.LessThan(f, Vector256.Create(113 << 23)), small, normal);
            o = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(f, Vector256.Create((127 + 16) << 23)), big, o);
            return o.AsUInt32() | sign;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Quantize(Vector256<float> value)
        {
            var bits = value.AsUInt32();
            var exponent = Vector256.Min(Vector256.Max(((bits >> 23) & Vector256.Create(0xFFu)).AsInt32(), Vector256.Create(127 - 14)), Vector256.Create(127 + 15)).AsUInt32();
            var c = (((exponent + Vector256.Create(13u)) << 23) | Vector256.Create(0x40_0000u)).AsSingle();
            var sign = bits & Vector256.Create(0x8000_0000u);
            var rounded = ((value + c) - c).AsUInt32() | sign;
            var magnitude = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32();
            var overflow = (Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x477F_F000)) & Vector256.LessThanOrEqual(magnitude, Vector256.Create(0x7F80_0000))).AsUInt32();
            return Vector256.ConditionalSelect(overflow, sign | Vector256.Create(0x7F80_0000u), rounded).AsSingle();
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Quantize(Vector512<float> value)
        {
            var bits = value.AsUInt32();
            var rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) & Vector512.Create(0xFFFF_0000u);
            var nan = (bits | Vector512.Create(0x40_0000u)) & Vector512.Create(0xFFFF_0000u);
            var isNaN = Vector512.GreaterThan(bits & Vector512.Create(0x7FFF_FFFFu), Vector512.Create(0x7F80_0000u));
            return Vector512.ConditionalSelect(isNaN, nan, rounded).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen(Vector256<uint> bits) => (bits << 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<uint> Round(Vector256<float> value)
        {
            var bits = value.AsUInt32();
            var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
            var nan = (bits >> 16) | Vector256.Create(0x40u);
            var isNaN = Vector256.GreaterThan((bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32(), Vector256.Create(0x7F80_0000)).AsUInt32();
            return Vector256.ConditionalSelect(isNaN, nan, rounded);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Quantize(Vector256<float> value)
        {
            var bits = value.AsUInt32();
            var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) & Vector256.Create(0xFFFF_0000u);
            var nan = (bits | Vector256.Create(0x40_0000u)) & Vector256.Create(0xFFFF_0000u);
            var isNaN = Vector256.GreaterThan((bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32(), Vector256.Create(0x7F80_0000)).AsUInt32();
            return Vector256.ConditionalSelect(isNaN, nan, rounded).AsSingle();
        }

        public static float Widen(ushort bits) => HalfBits.BFloat16ToSingle(bits);

        public static ushort Round(float value) => HalfBits.SingleToBFloat16(value);
    }
}
