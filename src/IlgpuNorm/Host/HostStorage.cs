using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuNorm.Runtime;
using IlgpuNorm.Kernels;

namespace IlgpuNorm.Host;

/// <summary>
/// A storage dtype <typeparamref name="T"/> and its compute type <typeparamref name="TC"/> (float32; float64 for float64):
/// widening loads and narrowing (round-to-nearest-even) stores of one value, a Vector256 and a Vector512 of compute
/// lanes. The one conversion abstraction of the host path; static abstract members on structs, so every driver is
/// specialized per dtype by the JIT and nothing is dispatched in a loop.
/// </summary>
/// <remarks>
/// .NET 10 exposes no F16C or AVX-512 FP16/BF16 conversion intrinsics, so the 16-bit conversions are integer and float
/// arithmetic, bit for bit the kernels' <see cref="HalfBits"/> (a NaN becomes the quiet NaN 0x7E00 with its sign for
/// float16, and keeps its upper bits with the quiet bit set for bfloat16).
/// </remarks>
internal unsafe interface IStorage<T, TC>
    where T : unmanaged
    where TC : unmanaged, IFloatingPointIeee754<TC>
{
    /// <summary>Whether T is TC: rows are read in place and may be written with streaming stores.</summary>
    static abstract bool IsCompute { get; }

    static abstract TC Widen(T value);

    static abstract T Narrow(TC value);

    static abstract Vector512<TC> Load(T* p);

    static abstract Vector256<TC> Load256(T* p);

    static abstract void Store(Vector512<TC> value, T* p);

    static abstract void Store(Vector256<TC> value, T* p);

    /// <summary>Two vectors (2 × Count elements) with streaming stores at <paramref name="p"/>, 64-byte aligned for
    /// Vector512, 32-byte aligned for Vector256 (a 64-byte line is then written by consecutive calls).</summary>
    static abstract void StoreStreaming(Vector512<TC> first, Vector512<TC> second, T* p);

    static abstract void StoreStreaming(Vector256<TC> first, Vector256<TC> second, T* p);

    /// <summary>The value rounded to T and widened back, Widen(Narrow(v)) bit for bit (NaN: a NaN of the same sign).</summary>
    static abstract Vector512<TC> Quantize(Vector512<TC> value);

    static abstract Vector256<TC> Quantize(Vector256<TC> value);

    /// <summary>
    /// Whether a row map may hold a block of <see cref="HostRows.PairBlock"/> elements as its even elements (lanes of
    /// the first vector) and its odd elements (the second): <see cref="LoadEvenOdd(T*)"/> and <see cref="StoreEvenOdd(Vector512{TC}, Vector512{TC}, T*, bool)"/>.
    /// </summary>
    static virtual bool EvenOdd => false;

    /// <summary>The even and the odd elements of the 2 × Vector512 Count elements at <paramref name="p"/> (where <see cref="EvenOdd"/>).</summary>
    static virtual (Vector512<TC> Even, Vector512<TC> Odd) LoadEvenOdd(T* p) => throw new NotSupportedException();

    static virtual (Vector256<TC> Even, Vector256<TC> Odd) LoadEvenOdd256(T* p) => throw new NotSupportedException();

    /// <summary>Stores a block held as even and odd elements, with a streaming store (<paramref name="p"/> aligned to the block) or not.</summary>
    static virtual void StoreEvenOdd(Vector512<TC> even, Vector512<TC> odd, T* p, bool streaming) => throw new NotSupportedException();

    static virtual void StoreEvenOdd(Vector256<TC> even, Vector256<TC> odd, T* p, bool streaming) => throw new NotSupportedException();

    /// <summary>
    /// Whether a row map may compute on magnitudes and apply each element's sign at the store
    /// (<see cref="HostRows.MapSignApart"/>): a 16-bit storage whose roundings then skip their sign steps.
    /// <see cref="Magnitude(Vector256{ushort})"/>, <see cref="QuantizeMagnitude(Vector512{TC})"/> and
    /// <see cref="MagnitudeBits(Vector512{TC})"/> take values ≥ 0 (no NaN) and give what the signed members give for them.
    /// </summary>
    static virtual bool SignApart => false;

    /// <summary>The power of two <see cref="Magnitude(Vector256{ushort})"/> scales by.</summary>
    static virtual TC MagnitudeScale => TC.One;

    /// <summary>|x| · <see cref="MagnitudeScale"/> of 16 stored values, given as their 16-bit patterns (where
    /// <see cref="SignApart"/>): exact, a power of two that saves the widening's multiply; the op divides by
    /// d · MagnitudeScale, the same quotient while that product is a normal number.</summary>
    static virtual Vector512<TC> Magnitude(Vector256<ushort> raw) => throw new NotSupportedException();

    static virtual Vector256<TC> Magnitude(Vector128<ushort> raw) => throw new NotSupportedException();

    /// <summary><see cref="Quantize(Vector512{TC})"/> of values ≥ 0.</summary>
    static virtual Vector512<TC> QuantizeMagnitude(Vector512<TC> value) => throw new NotSupportedException();

    static virtual Vector256<TC> QuantizeMagnitude(Vector256<TC> value) => throw new NotSupportedException();

    /// <summary>The stored 16-bit patterns of values ≥ 0 (what <see cref="Store(Vector512{TC}, T*)"/> writes for them).</summary>
    static virtual Vector256<ushort> MagnitudeBits(Vector512<TC> value) => throw new NotSupportedException();

    /// <summary>The patterns of two Vector256 of values ≥ 0, in order (one pack for 16 lanes).</summary>
    static virtual Vector256<ushort> MagnitudeBits(Vector256<TC> first, Vector256<TC> second) => throw new NotSupportedException();

    /// <summary>
    /// <see cref="Magnitude(Vector256{ushort})"/> of a block in the even/odd layout (<see cref="EvenOdd"/>), given as its
    /// 32-bit lanes (each two stored values, the even one in the low half): the even elements' magnitudes and the odd ones'.
    /// </summary>
    static virtual (Vector512<TC> Even, Vector512<TC> Odd) MagnitudeEvenOdd(Vector512<uint> raw) => throw new NotSupportedException();

    static virtual (Vector256<TC> Even, Vector256<TC> Odd) MagnitudeEvenOdd(Vector256<uint> raw) => throw new NotSupportedException();

    /// <summary><see cref="MagnitudeBits(Vector512{TC})"/> of a block held as even and odd values ≥ 0: each 32-bit lane
    /// holds the even element's pattern in its low half and the odd one's in its high half (the stored block).</summary>
    static virtual Vector512<uint> MagnitudeBitsEvenOdd(Vector512<TC> even, Vector512<TC> odd) => throw new NotSupportedException();

    static virtual Vector256<uint> MagnitudeBitsEvenOdd(Vector256<TC> even, Vector256<TC> odd) => throw new NotSupportedException();

    /// <summary>The 16 values at p whose squares <see cref="SumOfSquares{TL}(ref TL, int)"/> sums for a row (where
    /// <see cref="EvenOdd"/>): a row map that sums the next row beside it (<see cref="HostRows.MapEvenOdd"/>) reads them.</summary>
    static virtual Vector512<TC> SquaresLoad(T* p) => throw new NotSupportedException();

    /// <summary>The 8 values at p whose squares the Vector256 reduction sums, as lanes 0-3 and 4-7 (<see cref="ILoad{TC}.Halves256(int)"/>).</summary>
    static virtual (Vector128<float> Lower, Vector128<float> Upper) SquaresHalves256(T* p) => throw new NotSupportedException();

    /// <summary>Whether <see cref="LoadHalves256(T*)"/> widens 8 values for fewer operations than <see cref="Load256(T*)"/> and a lane split.</summary>
    static virtual bool HasLoadHalves256 => false;

    /// <summary><see cref="Load256(T*)"/> as lanes 0-3 and 4-7.</summary>
    static virtual (Vector128<TC> Lower, Vector128<TC> Upper) LoadHalves256(T* p) => throw new NotSupportedException();

    /// <summary>The row's Σ x² from the float64 sum of the squares of <see cref="SquaresLoad(T*)"/> over a whole row of
    /// blocks, in the reduction's lane order: what <see cref="SumOfSquares{TL}(ref TL, int)"/> returns for that row.</summary>
    static virtual TC SquaresSum(double sum, T* row, int n) => throw new NotSupportedException();

    /// <summary>Σ x² in the compute type: <see cref="HostRows.SumOfSquares{TL}(ref TL, int)"/> (float32 compute) or
    /// <see cref="HostRows.SumOfSquares64{TL}(ref TL, int)"/> (float64).</summary>
    static abstract TC SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<TC>;
}

/// <summary>Span conversions of any <see cref="IStorage{T, TC}"/>.</summary>
internal static unsafe class HostStorage
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Widen<T, TC, S>(ReadOnlySpan<T> source, Span<TC> destination)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
    {
        fixed (T* x = source)
        fixed (TC* y = destination)
        {
            int n = source.Length, i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - Vector512<TC>.Count; i += Vector512<TC>.Count)
                {
                    S.Load(x + i).Store(y + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - Vector256<TC>.Count; i += Vector256<TC>.Count)
                {
                    S.Load256(x + i).Store(y + i);
                }
            }

            for (; i < n; i++)
            {
                y[i] = S.Widen(x[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Narrow<T, TC, S>(ReadOnlySpan<TC> source, Span<T> destination)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
    {
        fixed (TC* x = source)
        fixed (T* y = destination)
        {
            int n = source.Length, i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - Vector512<TC>.Count; i += Vector512<TC>.Count)
                {
                    S.Store(Vector512.Load(x + i), y + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - Vector256<TC>.Count; i += Vector256<TC>.Count)
                {
                    S.Store(Vector256.Load(x + i), y + i);
                }
            }

            for (; i < n; i++)
            {
                y[i] = S.Narrow(x[i]);
            }
        }
    }

    /// <summary>
    /// Widens whole <see cref="HostRows.PairBlock"/> blocks into their even elements, then their odd ones (each block's
    /// first vector holds elements 0, 2, 4..., its second 1, 3, 5...): the layout in which <see cref="HostRows.MapEvenOdd"/>
    /// reads a weight. S is an <see cref="IStorage{T, TC}.EvenOdd"/> storage; the length a multiple of the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenEvenOdd<T, TC, S>(ReadOnlySpan<T> source, Span<TC> destination)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
    {
        fixed (T* x = source)
        fixed (TC* y = destination)
        {
            int n = source.Length;
            for (int i = 0; Vector512.IsHardwareAccelerated && i < n; i += 2 * Vector512<TC>.Count)
            {
                var (even, odd) = S.LoadEvenOdd(x + i);
                even.Store(y + i);
                odd.Store(y + i + Vector512<TC>.Count);
            }

            for (int i = 0; !Vector512.IsHardwareAccelerated && i < n; i += 2 * Vector256<TC>.Count)
            {
                var (even, odd) = S.LoadEvenOdd256(x + i);
                even.Store(y + i);
                odd.Store(y + i + Vector256<TC>.Count);
            }
        }
    }

    /// <summary>Rounds compute values to T precision in place (nothing for float32 and float64).</summary>
    public static void Quantize<T, TC, S>(Span<TC> values)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
    {
        for (int i = 0; i < values.Length && !S.IsCompute; i++)
        {
            values[i] = S.Widen(S.Narrow(values[i]));
        }
    }
}

/// <summary>
/// float32 stored as float32 (<c>ComputeStorage&lt;float, FloatSquares&gt;</c>) or float64 as float64: loads and stores
/// of the values themselves, no rounding; <typeparamref name="TSquares"/> is the dtype's Σ x².
/// </summary>
internal readonly unsafe struct ComputeStorage<TC, TSquares> : IStorage<TC, TC>
    where TC : unmanaged, IFloatingPointIeee754<TC>
    where TSquares : ISquares<TC>
{
    public static bool IsCompute => true;

    public static TC Widen(TC value) => value;

    public static TC Narrow(TC value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<TC> Load(TC* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<TC> Load256(TC* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<TC> value, TC* p) => value.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<TC> value, TC* p) => value.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStreaming(Vector512<TC> first, Vector512<TC> second, TC* p)
    {
        first.StoreAlignedNonTemporal(p);
        second.StoreAlignedNonTemporal(p + Vector512<TC>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStreaming(Vector256<TC> first, Vector256<TC> second, TC* p)
    {
        first.StoreAlignedNonTemporal(p);
        second.StoreAlignedNonTemporal(p + Vector256<TC>.Count);
    }

    public static Vector512<TC> Quantize(Vector512<TC> value) => value;

    public static Vector256<TC> Quantize(Vector256<TC> value) => value;

    public static TC SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<TC> => TSquares.SumOfSquares(ref load, n);
}

/// <summary>The Σ x² of a compute type.</summary>
internal interface ISquares<TC>
    where TC : unmanaged
{
    static abstract TC SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<TC>;
}

/// <summary><see cref="HostRows.SumOfSquares{TL}(ref TL, int)"/>: float64 lanes in a fixed order.</summary>
internal readonly struct FloatSquares : ISquares<float>
{
    public static float SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<float> => HostRows.SumOfSquares(ref load, n);
}

/// <summary><see cref="HostRows.SumOfSquares64{TL}(ref TL, int)"/>: compensated float64 lanes.</summary>
internal readonly struct DoubleSquares : ISquares<double>
{
    public static double SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<double> => HostRows.SumOfSquares64(ref load, n);
}

/// <summary>
/// A 16-bit storage of float32 values: its lanes' bits (<see cref="Bits(Vector512{float})"/>, the narrowing) make its
/// stores, ordinary and streaming, the same way for float16 and bfloat16.
/// </summary>
internal unsafe interface ISixteenBitStorage<TSelf> : IStorage<ushort, float>
    where TSelf : ISixteenBitStorage<TSelf>
{
    static bool IStorage<ushort, float>.IsCompute => false;

    /// <summary>The 16-bit pattern of each lane, rounded to nearest even, in the low half of a uint lane.</summary>
    static abstract Vector512<uint> Bits(Vector512<float> value);

    static abstract Vector256<uint> Bits(Vector256<float> value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.Store(Vector512<float> value, ushort* p) => Avx512F.ConvertToVector256UInt16(TSelf.Bits(value)).Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.Store(Vector256<float> value, ushort* p)
    {
        var o = TSelf.Bits(value).AsInt32();
        Sse41.PackUnsignedSaturate(o.GetLower(), o.GetUpper()).Store(p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreStreaming(Vector512<float> first, Vector512<float> second, ushort* p) =>
        Avx512F.PermuteVar8x64(Avx512BW.PackUnsignedSaturate(TSelf.Bits(first).AsInt32(), TSelf.Bits(second).AsInt32()).AsUInt64(), Vector512.Create(0ul, 2, 4, 6, 1, 3, 5, 7)).AsUInt16().StoreAlignedNonTemporal(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreStreaming(Vector256<float> first, Vector256<float> second, ushort* p) =>
        Avx2.Permute4x64(Avx2.PackUnsignedSaturate(TSelf.Bits(first).AsInt32(), TSelf.Bits(second).AsInt32()).AsUInt64(), 0b11_01_10_00).AsUInt16().StoreAlignedNonTemporal(p);

    static float IStorage<ushort, float>.SumOfSquares<TL>(ref TL load, int n) => HostRows.SumOfSquares(ref load, n);
}

/// <summary>
/// A float16 storage's blocks as their even and odd elements (<see cref="IStorage{T, TC}.EvenOdd"/>): a 32-bit lane holds
/// one of each; the even one is its low half sign-extended, the odd one its high half shifted down, both widened by
/// <see cref="Widen(Vector512{int})"/>; the store puts the odd lanes' bits above the even ones'. The same conversions as
/// the element-order loads and stores, lane for lane.
/// </summary>
internal unsafe interface IFloat16Storage<TSelf> : ISixteenBitStorage<TSelf>
    where TSelf : IFloat16Storage<TSelf>
{
    static bool IStorage<ushort, float>.EvenOdd => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> IStorage<ushort, float>.SquaresLoad(ushort* p) => new HalfMagnitudeLoad(p).V512(0, out _);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float> Lower, Vector128<float> Upper) IStorage<ushort, float>.SquaresHalves256(ushort* p) => new HalfMagnitudeLoad(p).Halves256(0);

    /// <summary>As <see cref="Float16Storage.SumOfSquares{TL}(ref TL, int)"/>: the magnitudes' sum scaled back, and a sum that
    /// is NaN or ≥ 2^32 again with the full widening.</summary>
    static float IStorage<ushort, float>.SquaresSum(double sum, ushort* row, int n)
    {
        float scaled = (float)(sum * (HalfMagnitudeLoad.SquareScale * HalfMagnitudeLoad.SquareScale));
        if (scaled < 4294967296f) // 2^32
        {
            return scaled;
        }

        var load = new RowLoad<ushort, float, Float16Storage>(row);
        return HostRows.SumOfSquares(ref load, n);
    }

    /// <summary>The float32 value of the float16 pattern in each lane's low 16 bits, sign-extended into the upper ones.</summary>
    static abstract Vector512<float> Widen(Vector512<int> half);

    static abstract Vector256<float> Widen(Vector256<int> half);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float> Even, Vector512<float> Odd) IStorage<ushort, float>.LoadEvenOdd(ushort* p)
    {
        var u = Vector512.Load((int*)p);
        return (TSelf.Widen((u << 16) >> 16), TSelf.Widen(u >> 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Even, Vector256<float> Odd) IStorage<ushort, float>.LoadEvenOdd256(ushort* p)
    {
        var u = Vector256.Load((int*)p);
        return (TSelf.Widen((u << 16) >> 16), TSelf.Widen(u >> 16));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreEvenOdd(Vector512<float> even, Vector512<float> odd, ushort* p, bool streaming) =>
        HostRows.Store(TSelf.Bits(even) | (TSelf.Bits(odd) << 16), (uint*)p, streaming);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreEvenOdd(Vector256<float> even, Vector256<float> odd, ushort* p, bool streaming) =>
        HostRows.Store(TSelf.Bits(even) | (TSelf.Bits(odd) << 16), (uint*)p, streaming);
}

/// <summary>IEEE float16 bits, as <see cref="HalfBits.HalfToSingle"/> and <see cref="HalfBits.SingleToHalf"/>.</summary>
internal readonly unsafe struct Float16Storage : IFloat16Storage<Float16Storage>
{
    public static float Widen(ushort value) => HalfBits.HalfToSingle(value);

    public static ushort Narrow(float value) => HalfBits.SingleToHalf(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ushort* p) => Widen(Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()).AsInt32());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(ushort* p) => Widen(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()).AsInt32());

    /// <summary>The value of the pattern in each lane's low 16 bits (the upper ones are not read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector512<int> half)
    {
        // Finite values: the exponent and mantissa moved into float position and scaled by 2^112, one exact multiply
        // that also normalizes subnormals. Inf and NaN: exponent forced to all ones, mantissa kept.
        var h = half.AsUInt32();
        var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
        var finite = (magnitude.AsSingle() * Vector512.Create((127u + 112) << 23).AsSingle()).AsUInt32();
        var isSpecial = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x7C00u << 13));
        return (Vector512.ConditionalSelect(isSpecial, magnitude | Vector512.Create(0x7F80_0000u), finite) | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector256<int> half)
    {
        var h = half.AsUInt32();
        var magnitude = (h & Vector256.Create(0x7FFFu)) << 13;
        var finite = (magnitude.AsSingle() * Vector256.Create((127u + 112) << 23).AsSingle()).AsUInt32();
        var isSpecial = Vector256.GreaterThanOrEqual(magnitude.AsInt32(), Vector256.Create(0x7C00 << 13)).AsUInt32();
        return (Vector256.ConditionalSelect(isSpecial, magnitude | Vector256.Create(0x7F80_0000u), finite) | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>The float16 bits of each lane, in the low half of a uint lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Bits(Vector512<float> value)
    {
        // Finite lanes as FiniteFloat16Storage (the same bits there, tests hold them equal); NaN: the quiet NaN with its sign.
        var nan = ((value.AsUInt32() >> 16) & Vector512.Create(0x8000u)) | Vector512.Create(0x7E00u);
        return Vector512.ConditionalSelect(Vector512.IsNaN(value).AsUInt32(), nan, FiniteFloat16Storage.Bits(value));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Bits(Vector256<float> value)
    {
        var nan = ((value.AsUInt32() >> 16) & Vector256.Create(0x8000u)) | Vector256.Create(0x7E00u);
        return Vector256.ConditionalSelect(Vector256.IsNaN(value).AsUInt32(), nan, FiniteFloat16Storage.Bits(value));
    }

    /// <summary>Σ x² of a row (<see cref="HostRows.SumOfSquares{TL}(ref TL, int)"/>) through <see cref="HalfMagnitudeLoad"/>;
    /// a sum that is NaN or ≥ 2^32, the mark of a row that may hold an infinity or a NaN, again with the full widening.
    /// The same bits: a square does not see the sign, and the magnitudes are exact for every finite value.</summary>
    public static float SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<float>
    {
        if (typeof(TL) == typeof(RowLoad<ushort, float, Float16Storage>))
        {
            var magnitudes = new HalfMagnitudeLoad(Unsafe.As<TL, RowLoad<ushort, float, Float16Storage>>(ref load).Row);
            float sum = HostRows.SumOfSquares(ref magnitudes, n);
            if (sum < 4294967296f) // 2^32
            {
                return sum;
            }
        }

        return HostRows.SumOfSquares(ref load, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Quantize(Vector512<float> value)
    {
        // (v + c) - c with c = 1.5 * 2^(e + 13), e = v's exponent clamped to float16's [-14, 15]: the sum's last bit is
        // worth float16's quantum 2^(e - 10) at v's binade (2^-24 below it, the subnormals), so the float addition rounds v
        // to float16 precision, ties to even (c's mantissa is even in those units), and the subtraction is exact.
        // |v| >= 65520 rounds to infinity (also every lane whose c is garbage: exponent + 13 past 255); NaN stays NaN (with
        // its sign, as Widen(Round(NaN)) keeps it). 12 operations, 4 fewer than a clamped exponent and two compares (the
        // same bits for all 2^32 inputs, checked exhaustively; float16 forward in cache ~8% faster).
        // The rounding itself is FiniteFloat16Storage.Quantize's (a value that rounds to zero keeps its sign).
        var bits = value.AsUInt32();
        var magnitude = bits & Vector512.Create(0x7FFF_FFFFu);
        var overflow = Vector512.LessThanOrEqual(magnitude - Vector512.Create(0x477F_F000u), Vector512.Create(0x7F80_0000u - 0x477F_F000u));
        return Vector512.ConditionalSelect(overflow, (bits ^ magnitude) | Vector512.Create(0x7F80_0000u), FiniteFloat16Storage.Quantize(value).AsUInt32()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Quantize(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var magnitude = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32(); // as the Vector512 overload, compares signed
        var overflow = (Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x477F_F000)) & Vector256.LessThanOrEqual(magnitude, Vector256.Create(0x7F80_0000))).AsUInt32();
        return Vector256.ConditionalSelect(overflow, (bits ^ magnitude.AsUInt32()) | Vector256.Create(0x7F80_0000u), FiniteFloat16Storage.Quantize(value).AsUInt32()).AsSingle();
    }

}

/// <summary>
/// A bfloat16 storage's blocks as their even and odd elements (<see cref="IStorage{T, TC}.EvenOdd"/>): a 32-bit lane holds
/// one of each, so the even element widens by a shift to the top and the odd one by clearing the low half; the store puts
/// the even lanes' bits (<c>Bits</c>) in the low halves and the odd lanes' rounding (<c>Quantize</c>: bits in the high
/// half) above them, one store and no lane crossing. The same roundings as the element-order loads and stores, lane for lane.
/// </summary>
internal unsafe interface IBFloat16Storage<TSelf> : ISixteenBitStorage<TSelf>
    where TSelf : IBFloat16Storage<TSelf>
{
    static bool IStorage<ushort, float>.EvenOdd => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> IStorage<ushort, float>.SquaresLoad(ushort* p) => BFloat16Storage.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float> Lower, Vector128<float> Upper) IStorage<ushort, float>.SquaresHalves256(ushort* p) => LoadHalves(p);

    static bool IStorage<ushort, float>.HasLoadHalves256 => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float> Lower, Vector128<float> Upper) IStorage<ushort, float>.LoadHalves256(ushort* p) => LoadHalves(p);

    /// <summary>Eight bfloat16 values widened as lanes 0-3 and 4-7: each pattern interleaved above a zero half, one
    /// <c>vpunpcklwd</c>/<c>vpunpckhwd</c> with the load folded in (against a <c>vpmovzxwd</c>, a shift and a lane extract).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector128<float> Lower, Vector128<float> Upper) LoadHalves(ushort* p)
    {
        if (!Sse2.IsSupported)
        {
            var v = BFloat16Storage.Load256(p);
            return (v.GetLower(), v.GetUpper());
        }

        return (Sse2.UnpackLow(Vector128<ushort>.Zero, Vector128.Load(p)).AsSingle(), Sse2.UnpackHigh(Vector128<ushort>.Zero, Vector128.Load(p)).AsSingle());
    }

    static float IStorage<ushort, float>.SquaresSum(double sum, ushort* row, int n) => (float)sum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector512<float> Even, Vector512<float> Odd) IStorage<ushort, float>.LoadEvenOdd(ushort* p)
    {
        var u = Vector512.Load((uint*)p);
        return ((u << 16).AsSingle(), (u & Vector512.Create(0xFFFF_0000u)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Even, Vector256<float> Odd) IStorage<ushort, float>.LoadEvenOdd256(ushort* p)
    {
        var u = Vector256.Load((uint*)p);
        return ((u << 16).AsSingle(), (u & Vector256.Create(0xFFFF_0000u)).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreEvenOdd(Vector512<float> even, Vector512<float> odd, ushort* p, bool streaming) =>
        HostRows.Store(TSelf.Bits(even) | TSelf.Quantize(odd).AsUInt32(), (uint*)p, streaming);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void IStorage<ushort, float>.StoreEvenOdd(Vector256<float> even, Vector256<float> odd, ushort* p, bool streaming) =>
        HostRows.Store(TSelf.Bits(even) | TSelf.Quantize(odd).AsUInt32(), (uint*)p, streaming);
}

/// <summary>bfloat16 bits, as <see cref="BFloat16.BitsToSingle"/> and <see cref="BFloat16.RoundToBits"/>.</summary>
internal readonly unsafe struct BFloat16Storage : IBFloat16Storage<BFloat16Storage>
{
    public static float Widen(ushort value) => BFloat16.BitsToSingle(value);

    public static ushort Narrow(float value) => BFloat16.RoundToBits(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ushort* p) => (Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()) << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(ushort* p) => (Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()) << 16).AsSingle();

    /// <summary>The bfloat16 bits of each lane (round to nearest even; a NaN keeps its upper bits, quieted), in the low half of a uint lane.
    /// NaN lanes by a float compare (one instruction into a mask: 9% off the AVX-512 row map against an integer test).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Bits(Vector512<float> value)
    {
        return Vector512.ConditionalSelect(Vector512.IsNaN(value).AsUInt32(), (value.AsUInt32() >> 16) | Vector512.Create(0x40u), FiniteBFloat16Storage.Bits(value));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Bits(Vector256<float> value)
    {
        return Vector256.ConditionalSelect(Vector256.IsNaN(value).AsUInt32(), (value.AsUInt32() >> 16) | Vector256.Create(0x40u), FiniteBFloat16Storage.Bits(value));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Quantize(Vector512<float> value)
    {
        var nan = (value.AsUInt32() | Vector512.Create(0x40_0000u)) & Vector512.Create(0xFFFF_0000u);
        return Vector512.ConditionalSelect(Vector512.IsNaN(value).AsUInt32(), nan, FiniteBFloat16Storage.Quantize(value).AsUInt32()).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Quantize(Vector256<float> value)
    {
        var nan = (value.AsUInt32() | Vector256.Create(0x40_0000u)) & Vector256.Create(0xFFFF_0000u);
        return Vector256.ConditionalSelect(Vector256.IsNaN(value).AsUInt32(), nan, FiniteBFloat16Storage.Quantize(value).AsUInt32()).AsSingle();
    }

}

/// <summary>
/// <see cref="BFloat16Storage"/> for lanes that hold no NaN (the forward's rows with a finite Σx² and a finite weight,
/// <c>HostForward</c>): the same rounding without the NaN lanes' compare and select, which are a third of a row map's
/// instructions (bfloat16 forward 15-25% faster). Infinities and overflows round as in BFloat16Storage: the carry of the
/// rounding add runs into the exponent, 0x7F80 (±Inf).
/// </summary>
internal readonly unsafe struct FiniteBFloat16Storage : IBFloat16Storage<FiniteBFloat16Storage>
{
    public static float Widen(ushort value) => BFloat16Storage.Widen(value);

    public static ushort Narrow(float value) => BFloat16Storage.Narrow(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ushort* p) => BFloat16Storage.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(ushort* p) => BFloat16Storage.Load256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Bits(Vector512<float> value)
    {
        var bits = value.AsUInt32();
        return (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Bits(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        return (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Quantize(Vector512<float> value)
    {
        var bits = value.AsUInt32();
        return ((bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) & Vector512.Create(0xFFFF_0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Quantize(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        return ((bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) & Vector256.Create(0xFFFF_0000u)).AsSingle();
    }
}

/// <summary>
/// <see cref="Float16Storage"/> for the forward's rows that hold no NaN and no infinity (finite Σx², finite weight,
/// <c>HostForward</c>): loads of finite values only (one exact multiply, no select for Inf and NaN), the first rounding
/// of x / d only (|x / d| ≤ √n &lt; 65504: no overflow select), and the stores' rounding without the NaN select
/// (products may still overflow to infinity, which rounds as in Float16Storage). The same bits on that domain.
/// </summary>
internal readonly unsafe struct FiniteFloat16Storage : IFloat16Storage<FiniteFloat16Storage>
{
    private const uint DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;

    public static float Widen(ushort value) => Float16Storage.Widen(value);

    public static ushort Narrow(float value) => Float16Storage.Narrow(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(ushort* p) => Widen(Vector512.WidenLower(Vector256.Load((short*)p).ToVector512Unsafe()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(ushort* p) => Widen(Vector256.WidenLower(Vector128.Load((short*)p).ToVector256Unsafe()));

    /// <summary>A finite value: the sign-extended pattern's sign, exponent and mantissa moved into float position, × 2^112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector512<int> half) =>
        ((half << 13) & Vector512.Create(unchecked((int)0x8FFF_E000))).AsSingle() * Vector512.Create((127u + 112) << 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector256<int> half) =>
        ((half << 13) & Vector256.Create(unchecked((int)0x8FFF_E000))).AsSingle() * Vector256.Create((127u + 112) << 23).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Bits(Vector512<float> value)
    {
        var bits = value.AsUInt32();
        var f = bits & Vector512.Create(0x7FFF_FFFFu);
        var small = (f.AsSingle() + Vector512.Create(DenormMagic).AsSingle()).AsUInt32() - Vector512.Create(DenormMagic);
        var normal = (f + Vector512.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + ((f >> 13) & Vector512<uint>.One)) >> 13;
        var o = Vector512.ConditionalSelect(Vector512.LessThan(f, Vector512.Create(113u << 23)), small, normal);
        return Vector512.Min(o, Vector512.Create(0x7C00u)) | ((bits >> 16) & Vector512.Create(0x8000u)); // past 65504: Inf
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Bits(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var f = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32();
        var small = (f.AsSingle() + Vector256.Create(DenormMagic).AsSingle()).AsInt32() - Vector256.Create((int)DenormMagic);
        var normal = (f + Vector256.Create(((15 - 127) << 23) + 0xFFF) + ((f >> 13) & Vector256<int>.One)) >> 13;
        var o = Vector256.ConditionalSelect(Vector256.LessThan(f, Vector256.Create(113 << 23)), small, normal);
        return Vector256.Min(o, Vector256.Create(0x7C00)).AsUInt32() | ((bits >> 16) & Vector256.Create(0x8000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Quantize(Vector512<float> value)
    {
        // Float16Storage's (v + c) - c without its overflow select: |v| < 65504. c's exponent is that of max(|v|, 2^-14):
        // one max and one mask (a shift pair before).
        var bits = value.AsUInt32();
        var magnitude = bits & Vector512.Create(0x7FFF_FFFFu);
        var c = ((Vector512.Max(magnitude, Vector512.Create((127u - 14) << 23)) & Vector512.Create(0x7F80_0000u)) + Vector512.Create((13u << 23) | 0x40_0000u)).AsSingle();
        return (((value + c) - c).AsUInt32() | (bits ^ magnitude)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Quantize(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var magnitude = (bits & Vector256.Create(0x7FFF_FFFFu)).AsInt32();
        var c = ((Vector256.Max(magnitude, Vector256.Create((127 - 14) << 23)) & Vector256.Create(0x7F80_0000)) + Vector256.Create((13 << 23) | 0x40_0000)).AsSingle();
        return (((value + c) - c).AsUInt32() | (bits ^ magnitude.AsUInt32())).AsSingle();
    }

    public static bool SignApart => true;

    /// <summary>2^-112: float16's exponent and mantissa bits moved into float32 position read as |x| · 2^-112 (a
    /// float16 subnormal m · 2^-24 as the float32 subnormal m · 2^-136).</summary>
    public static float MagnitudeScale => 1.9259299443872359e-34f;

    /// <summary>The load without the sign bit and without its multiply: |x| · 2^-112.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Magnitude(Vector256<ushort> raw)
    {
        var h = Vector512.WidenLower(raw.ToVector512Unsafe()).AsInt32();
        return ((h << 13) & Vector512.Create(0x0FFF_E000)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Magnitude(Vector128<ushort> raw)
    {
        var h = Vector256.WidenLower(raw.ToVector256Unsafe()).AsInt32();
        return ((h << 13) & Vector256.Create(0x0FFF_E000)).AsSingle();
    }

    /// <summary><see cref="Quantize(Vector512{float})"/> of v ≥ 0: (v + c) - c, with no sign to take off and put back.
    /// Unlike Quantize it also rounds values past 65504 (to 2^16 and on, what <see cref="MagnitudeBits(Vector512{float})"/> needs);
    /// from 2^115 on c is a NaN or wraps to a tiny negative, and the value comes back NaN or unrounded (for the bits, both
    /// read as infinity).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuantizeMagnitude(Vector512<float> value)
    {
        var c = ((Vector512.Max(value.AsUInt32(), Vector512.Create((127u - 14) << 23)) & Vector512.Create(0x7F80_0000u)) + Vector512.Create((13u << 23) | 0x40_0000u)).AsSingle();
        return (value + c) - c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> QuantizeMagnitude(Vector256<float> value)
    {
        var c = ((Vector256.Max(value.AsInt32(), Vector256.Create((127 - 14) << 23)) & Vector256.Create(0x7F80_0000)) + Vector256.Create((13 << 23) | 0x40_0000)).AsSingle();
        return (value + c) - c;
    }

    /// <summary>
    /// The float16 patterns of v ≥ 0 without a compare: v rounded to float16 precision (<see cref="QuantizeMagnitude(Vector512{float})"/>:
    /// steps of 2^-24 below 2^-14), then × 2^-112, which moves float32's exponent bias to float16's and is exact (a float16
    /// subnormal m · 2^-24 becomes the float32 subnormal m · 2^-136, whose bits are m &lt;&lt; 13). Bits 13 and up are then
    /// the float16 pattern; from 65520 (rounded to 2^16) and for +Inf the exponent field reads 31 or more, and the min
    /// makes it 0x7C00. Eight operations and a narrowing, where <see cref="Bits(Vector512{float})"/> takes thirteen and a
    /// compare (tests hold the two equal on every non-negative float32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ushort> MagnitudeBits(Vector512<float> value)
    {
        var scaled = QuantizeMagnitude(value) * Vector512.Create((127u - 112) << 23).AsSingle();
        return Avx512F.ConvertToVector256UInt16(Vector512.Min(scaled.AsUInt32() >> 13, Vector512.Create(0x7C00u)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ushort> MagnitudeBits(Vector256<float> first, Vector256<float> second)
    {
        var packed = Avx2.PackUnsignedSaturate(Bits32(first), Bits32(second)); // lanes 0-3 of each, then 4-7 of each
        return Avx2.Permute4x64(packed.AsUInt64(), 0b11_01_10_00).AsUInt16();

        static Vector256<int> Bits32(Vector256<float> value)
        {
            var scaled = QuantizeMagnitude(value) * Vector256.Create((127u - 112) << 23).AsSingle();
            return Vector256.Min(scaled.AsInt32() >> 13, Vector256.Create(0x7C00));
        }
    }

    /// <summary>The even element's |x| · 2^-112 from the low half of each lane (moved up 13), the odd one's from the high
    /// half (moved down 3): two operations per 16 elements, no widening shuffle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) MagnitudeEvenOdd(Vector512<uint> raw) =>
        (((raw << 13) & Vector512.Create(0x0FFF_E000u)).AsSingle(), ((raw >> 3) & Vector512.Create(0x0FFF_E000u)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) MagnitudeEvenOdd(Vector256<uint> raw) =>
        (((raw << 13) & Vector256.Create(0x0FFF_E000u)).AsSingle(), ((raw >> 3) & Vector256.Create(0x0FFF_E000u)).AsSingle());

    /// <summary>
    /// <see cref="MagnitudeBits(Vector512{float})"/> of both halves of a block, stored in place, with no narrowing: a
    /// value rounded to float16 precision and scaled by 2^-112 has its pattern in bits 13-28 and zeros below (the clamp
    /// to 0x7C00 &lt;&lt; 13 too), so the even pattern is that moved down 13 and the odd one that moved up 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> MagnitudeBitsEvenOdd(Vector512<float> even, Vector512<float> odd)
    {
        var scale = Vector512.Create((127u - 112) << 23).AsSingle();
        var infinity = Vector512.Create(0x7C00u << 13);
        var e = Vector512.Min((QuantizeMagnitude(even) * scale).AsUInt32(), infinity);
        var o = Vector512.Min((QuantizeMagnitude(odd) * scale).AsUInt32(), infinity);
        return (e >> 13) | (o << 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> MagnitudeBitsEvenOdd(Vector256<float> even, Vector256<float> odd)
    {
        var scale = Vector256.Create((127u - 112) << 23).AsSingle();
        var infinity = Vector256.Create(0x7C00 << 13);
        var e = Vector256.Min((QuantizeMagnitude(even) * scale).AsInt32(), infinity);
        var o = Vector256.Min((QuantizeMagnitude(odd) * scale).AsInt32(), infinity);
        return ((e >> 13) | (o << 3)).AsUInt32();
    }
}

/// <summary>
/// |x| · 2^-112 of a float16 row, for Σ x²: exponent and mantissa moved into float position (the sign shifted out), two
/// shifts for 16 lanes where the full widening takes eight operations; the reduction scales its float64 sum back by
/// the square of <see cref="SquareScale"/> = 2^112 (exact: every partial sum is a float64 normal, so the scaling commutes with its
/// roundings). An infinity or NaN reads as a finite value ≥ 2^16 (its square ≥ 2^32): callers take a sum ≥ 2^32 as a
/// sign to sum the row again with the full widening (<see cref="Float16Storage.SumOfSquares{TL}(ref TL, int)"/>).
/// </summary>
internal readonly unsafe struct HalfMagnitudeLoad(ushort* x) : ILoad<float>
{
    public static bool HasProduct => false;

    public static double SquareScale => 5192296858534827628530496329220096d; // 2^112

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> V512(int i, out Vector512<float> t)
    {
        t = default;
        return ((Vector512.WidenLower(Vector256.Load(x + i).ToVector512Unsafe()) << 17) >> 4).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> V256(int i, out Vector256<float> t)
    {
        t = default;
        var h = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(x + i).AsUInt32() : Vector256.WidenLower(Vector128.Load(x + i).ToVector256Unsafe());
        return ((h << 17) >> 4).AsSingle();
    }

    public static bool HasHalves => true;

    /// <summary>V256 as lanes 0-3 and 4-7 (a <c>vpmovzxwd</c> from memory, two shifts, a lane split).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector128<float> Lower, Vector128<float> Upper) Halves256(int i)
    {
        var v = V256(i, out _);
        return (v.GetLower(), v.GetUpper());
    }

    /// <summary>The value widened exactly (an infinity or NaN stays one), times 2^-112 (exact: a float16 is a multiple of 2^-24).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float At(int i, out float t)
    {
        t = 0;
        return HalfBits.HalfToSingle(x[i]) * 1.9259299443872359e-34f; // 2^-112
    }
}
