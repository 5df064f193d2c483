using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuNorm.Host;

/// <summary>
/// Where a row's values come from, in compute lanes: Vector512 and Vector256 steps at element i, and one element. A load
/// with <see cref="HasProduct"/> also gives a second operand t per element, and the reduction then sums Σ t·x beside
/// Σ x² (the backward pass's Σ (w·dy)·x), in its own fixed order (<see cref="HostRows.SumOfSquares{TL}(ref TL, int, out double)"/>).
/// </summary>
internal interface ILoad<TC>
    where TC : unmanaged
{
    static abstract bool HasProduct { get; }

    /// <summary>What the loaded values are multiplied by to give x: the reduction multiplies its float64 Σ x² by its
    /// square before rounding to float32 (1: the values are x).</summary>
    static virtual double SquareScale => 1;

    Vector512<TC> V512(int i, out Vector512<TC> t);

    Vector256<TC> V256(int i, out Vector256<TC> t);

    TC At(int i, out TC t);

    /// <summary>Whether <see cref="Halves256(int)"/> gives the values for fewer operations than V256 and a lane split (a load without a product).</summary>
    static virtual bool HasHalves => false;

    /// <summary>The values of V256(i) as two Vector128 (lanes 0-3 and 4-7), each widened straight from memory, for
    /// <see cref="Squares256"/>'s float64 lanes without a lane extract.</summary>
    (Vector128<TC> Lower, Vector128<TC> Upper) Halves256(int i) => throw new NotSupportedException();
}

/// <summary>What a row map writes at element i (Vector512, Vector256, one element), and what it reads ahead.</summary>
internal interface IMap<TC>
    where TC : unmanaged
{
    Vector512<TC> V512(int i);

    Vector256<TC> V256(int i);

    TC At(int i);

    /// <summary>Prefetches the inputs of element i (past the row: the next row of contiguous rows; a prefetch never faults).</summary>
    void Prefetch(int i);

    /// <summary>The block of 2 × Vector512 Count elements at i as even and odd elements (<see cref="HostRows.MapEvenOdd"/>).</summary>
    (Vector512<TC> Even, Vector512<TC> Odd) EvenOdd512(int i) => throw new NotSupportedException();

    (Vector256<TC> Even, Vector256<TC> Odd) EvenOdd256(int i) => throw new NotSupportedException();

    /// <summary>The stored 16-bit patterns of the 16 elements at i, computed on magnitudes with each element's sign
    /// applied at the end (<see cref="HostRows.MapSignApart"/>; Vector512 lanes where accelerated, else Vector256).</summary>
    Vector256<ushort> Bits(int i) => throw new NotSupportedException();

    /// <summary>The first steps of <see cref="Bits(int)"/> on the even/odd block at i (2 × Vector512 Count elements): the
    /// even and the odd magnitudes divided and weighted, before their last rounding (a loop computes them a block ahead,
    /// <see cref="HostRows.MapEvenOdd"/>).</summary>
    (Vector512<TC> Even, Vector512<TC> Odd) MagnitudesEvenOdd512(int i) => throw new NotSupportedException();

    (Vector256<TC> Even, Vector256<TC> Odd) MagnitudesEvenOdd256(int i) => throw new NotSupportedException();

    /// <summary>The rest of <see cref="Bits(int)"/> on the block at i from <see cref="MagnitudesEvenOdd512(int)"/>: the stored block's 32-bit lanes.</summary>
    Vector512<uint> BitsEvenOdd512(int i, Vector512<TC> even, Vector512<TC> odd) => throw new NotSupportedException();

    Vector256<uint> BitsEvenOdd256(int i, Vector256<TC> even, Vector256<TC> odd) => throw new NotSupportedException();
}

/// <summary>A row of storage values, widened.</summary>
internal readonly unsafe struct RowLoad<T, TC, S>(T* x) : ILoad<TC>
    where T : unmanaged
    where TC : unmanaged, IFloatingPointIeee754<TC>
    where S : IStorage<T, TC>
{
    public static bool HasProduct => false;

    /// <summary>The row's first value.</summary>
    public T* Row => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<TC> V512(int i, out Vector512<TC> t)
    {
        t = default;
        return S.Load(x + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<TC> V256(int i, out Vector256<TC> t)
    {
        t = default;
        return S.Load256(x + i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TC At(int i, out TC t)
    {
        t = default;
        return S.Widen(x[i]);
    }

    public static bool HasHalves => S.HasLoadHalves256;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector128<TC> Lower, Vector128<TC> Upper) Halves256(int i) => S.LoadHalves256(x + i);
}

/// <summary>residual = (T)(x + residual), stored back; the load is that rounded sum (the norm is of it).</summary>
internal readonly unsafe struct ResidualLoad<T, TC, S>(T* x, T* residual) : ILoad<TC>
    where T : unmanaged
    where TC : unmanaged, IFloatingPointIeee754<TC>
    where S : IStorage<T, TC>
{
    public static bool HasProduct => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<TC> V512(int i, out Vector512<TC> t)
    {
        t = default;
        var s = S.Load(x + i) + S.Load(residual + i);
        S.Store(s, residual + i);
        return S.Quantize(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<TC> V256(int i, out Vector256<TC> t)
    {
        t = default;
        var s = S.Load256(x + i) + S.Load256(residual + i);
        S.Store(s, residual + i);
        return S.Quantize(s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TC At(int i, out TC t)
    {
        t = default;
        residual[i] = S.Narrow(S.Widen(x[i]) + S.Widen(residual[i]));
        return S.Widen(residual[i]);
    }
}

/// <summary>
/// Four float64 accumulators of float32 squares, the Vector512 lane order of every float32 Σx² on the host: 32 values a
/// step (a0, a1 the two halves of the first 16, a2, a3 of the next), a last 16 into a0, a1, then (a0 + a2) + (a1 + a3).
/// Four chains, not two: with two, the adds' latency bound the loop (2.7 vs 1.9 µs per 64K floats in L2). The square of
/// a float32 is exact in float64, so a fused multiply-add gives the bits of a multiply and an add. Here it is an FMA:
/// four chains hide its 4-cycle latency, and one instruction instead of two made the AVX-512 forward 4-6% and the
/// backward ~3% faster in cache (paired rounds against ce5f220). <see cref="Squares256"/>'s two chains keep the multiply
/// and the add: there the add's 3-cycle latency binds, and FMA made the float32 forward 13% slower.
/// </summary>
internal struct Squares512
{
    private Vector512<double> a0, a1, a2, a3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector512<float> first, Vector512<float> second)
    {
        var (lo, hi) = Vector512.Widen(first);
        a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
        a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
        (lo, hi) = Vector512.Widen(second);
        a2 = Vector512.FusedMultiplyAdd(lo, lo, a2);
        a3 = Vector512.FusedMultiplyAdd(hi, hi, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector512<float> last)
    {
        var (lo, hi) = Vector512.Widen(last);
        a0 = Vector512.FusedMultiplyAdd(lo, lo, a0);
        a1 = Vector512.FusedMultiplyAdd(hi, hi, a1);
    }

    /// <summary><see cref="Add(Vector512{float}, Vector512{float})"/> of the 32 float32 values at p, each quarter widened
    /// straight from memory (<c>vcvtps2pd</c> with a memory operand: no lane extract); the same lanes into the same
    /// accumulators, so the same sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Add(float* p)
    {
        var q = Avx512F.ConvertToVector512Double(Vector256.Load(p));
        a0 = Vector512.FusedMultiplyAdd(q, q, a0);
        q = Avx512F.ConvertToVector512Double(Vector256.Load(p + 8));
        a1 = Vector512.FusedMultiplyAdd(q, q, a1);
        q = Avx512F.ConvertToVector512Double(Vector256.Load(p + 16));
        a2 = Vector512.FusedMultiplyAdd(q, q, a2);
        q = Avx512F.ConvertToVector512Double(Vector256.Load(p + 24));
        a3 = Vector512.FusedMultiplyAdd(q, q, a3);
    }

    /// <summary>The accumulators (a0, a1) or (a2, a3) plus the squares of 16 values, as <see cref="Add(Vector512{float})"/>
    /// does to (a0, a1): for loops that keep the four as plain locals and hand them over with <see cref="From"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<double>, Vector512<double>) Next(Vector512<double> first, Vector512<double> second, Vector512<float> values)
    {
        var (lo, hi) = Vector512.Widen(values);
        return (Vector512.FusedMultiplyAdd(lo, lo, first), Vector512.FusedMultiplyAdd(hi, hi, second));
    }

    public static Squares512 From(Vector512<double> a0, Vector512<double> a1, Vector512<double> a2, Vector512<double> a3) => new() { a0 = a0, a1 = a1, a2 = a2, a3 = a3 };

    public readonly double Sum => Vector512.Sum((a0 + a2) + (a1 + a3));
}

/// <summary>The Vector256 order: 8 values a step, their halves into a0 and a1, then a0 + a1.</summary>
internal struct Squares256
{
    private Vector256<double> a0, a1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector256<float> v)
    {
        var (lo, hi) = Vector256.Widen(v);
        a0 += lo * lo;
        a1 += hi * hi;
    }

    /// <summary>
    /// <paramref name="a"/> plus the squares of four values from memory (a widening load, no lane shuffle): eight values
    /// are Next(a0, p), Next(a1, p + 4), the lanes of <see cref="Add(Vector256{float})"/>. For loops that keep the
    /// accumulators as plain locals (a struct held across an AVX2 loop was stored every step) and hand them over with <see cref="From"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<double> Next(Vector256<double> a, float* p)
    {
        var v = Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe());
        return a + (v * v);
    }

    /// <summary><see cref="Add(Vector256{float})"/> of eight values given as their lanes 0-3 and 4-7 (<see cref="ILoad{TC}.Halves256(int)"/>):
    /// each widened by one <c>vcvtps2pd</c>, no lane extract; the same lanes into the same accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add((Vector128<float> Lower, Vector128<float> Upper) values) => (a0, a1) = Next(a0, a1, values);

    /// <summary>(a0, a1) plus the squares of eight values given as halves, as the Add that takes halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<double>, Vector256<double>) Next(Vector256<double> a0, Vector256<double> a1, (Vector128<float> Lower, Vector128<float> Upper) values)
    {
        var (lo, hi) = (Widen(values.Lower), Widen(values.Upper));
        return (a0 + (lo * lo), a1 + (hi * hi));

        static Vector256<double> Widen(Vector128<float> v) => Avx.IsSupported ? Avx.ConvertToVector256Double(v) : Vector256.WidenLower(v.ToVector256Unsafe());
    }

    /// <summary>The accumulators a0 and a1 of a loop that ran <see cref="Next(Vector256{double}, float*)"/> itself.</summary>
    public static Squares256 From(Vector256<double> a0, Vector256<double> a1) => new() { a0 = a0, a1 = a1 };

    public readonly double Sum => Vector256.Sum(a0 + a1);
}

/// <summary>
/// The two drivers of every host operation: a row reduction whose order is fixed by construction (per vector width:
/// <see cref="Squares512"/>, <see cref="Squares256"/>, then the scalar tail in float64), and a row map that alone decides
/// streaming stores and prefetch. Both AggressiveOptimization: straight to optimized code instead of tier-0 code, which
/// ran 4–5× slower for the first calls. The Vector512 and Vector256 loops are separate methods, so that the JIT's
/// inlining budget covers each width's conversions (a generic loop with both widths left 16-bit conversions as calls, 3-4× slower).
/// </summary>
[SkipLocalsInit]
internal static unsafe class HostRows
{
    /// <summary>
    /// Σ x² of a float32-compute row in float64 lanes, rounded to float32. The policy's float32 accumulation fixes no
    /// order; a float32 accumulator lost up to ~7 units of 2^-24 on rows where one large value dominates.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquares<TL>(ref TL load, int n)
        where TL : struct, ILoad<float> => SumOfSquares(ref load, n, out _);

    /// <summary>
    /// The same, and Σ t·x of a load with a product: float32 fused multiply-adds into two Vector512 accumulators (the
    /// two vectors of a double step; a last single step into the first) or two Vector256 ones, their lanes widened and
    /// summed (an unused width adds an exact zero), then the rest (Vector256's last single step and the scalar tail) in
    /// float64, in element order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquares<TL>(ref TL load, int n, out double product)
        where TL : struct, ILoad<float>
    {
        // As the continued form from element 0, without handing empty accumulators through it (a row's fixed cost).
        product = 0;
        int i = 0;
        double sum = Vector512.IsHardwareAccelerated && n >= 16 ? Sum512(ref load, n, ref i, default, ref product)
            : Vector256.IsHardwareAccelerated && n >= 8 ? Sum256(ref load, n, ref i, default, ref product)
            : 0;
        return Tail(ref load, n, i, sum, ref product);
    }

    /// <summary>The same, continued from element <paramref name="i"/> with accumulators that hold the elements before it
    /// (i a multiple of 32 for Vector512, of 16 for Vector256: the two-row pipeline's loop stops there; loads without a product).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumOfSquares<TL>(ref TL load, int n, int i, Squares512 v512, Squares256 v256, out double product)
        where TL : struct, ILoad<float>
    {
        product = 0;
        double sum = Vector512.IsHardwareAccelerated && n >= 16 ? Sum512(ref load, n, ref i, v512, ref product)
            : Vector256.IsHardwareAccelerated && n >= 8 ? Sum256(ref load, n, ref i, v256, ref product)
            : 0;
        return Tail(ref load, n, i, sum, ref product);
    }

    /// <summary>The scalar tail of the float32 reduction, in float64, in element order; the sum rounded to float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail<TL>(ref TL load, int n, int i, double sum, ref double product)
        where TL : struct, ILoad<float>
    {
        for (; i < n; i++)
        {
            double v = load.At(i, out float t);
            sum += v * v;
            if (TL.HasProduct)
            {
                product += t * v;
            }
        }

        return (float)(TL.SquareScale == 1 ? sum : sum * (TL.SquareScale * TL.SquareScale));
    }

    /// <summary>Σ x² of a float32 span (<see cref="SumOfSquares{TL}(ref TL, int)"/>).</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x)
    {
        fixed (float* p = x)
        {
            var load = new RowLoad<float, float, Float32Storage>(p);
            return SumOfSquares(ref load, x.Length);
        }
    }

    /// <summary>Σ x² in float64, compensated (Neumaier) lane by lane, so float64 rows are accurate at any length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares64<TL>(ref TL load, int n)
        where TL : struct, ILoad<double>
    {
        int i = 0;
        var total = default(Kernels.CompensatedSum);
        if (Vector256.IsHardwareAccelerated && n >= 4)
        {
            var sum = Vector256<double>.Zero;
            var error = Vector256<double>.Zero;
            for (; i <= n - 4; i += 4)
            {
                var v = load.V256(i, out _);
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
            double v = load.At(i, out _);
            total = total.Add(v * v);
        }

        return total.Value;
    }

    /// <summary>
    /// y[i] = (T)op(i) for i in [start, n). <see cref="RowTraffic.Streamed"/> (calls larger than the last-level cache):
    /// non-temporal stores of whole 64-byte lines from the first aligned one on (ordinary stores before it and for the
    /// tail) and a prefetch of the next row's inputs, so that its reads overlap this row's writes: y would not stay in
    /// cache anyway, and streaming stores skip reading each y line before writing it ([4096, 4096] float32, 2 threads:
    /// 55 GB/s against 47 GB/s). <see cref="RowTraffic.Prefetched"/>: the prefetch only (y is a row buffer that stays in
    /// cache). The same arithmetic either way, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Map<T, TC, S, TOp>(ref TOp op, T* y, int n, RowTraffic traffic, int start = 0)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
    {
        int i = start;
        bool prefetch = traffic is RowTraffic.Prefetched or RowTraffic.Streamed && Sse.IsSupported;
        bool stream = traffic is RowTraffic.Streamed or RowTraffic.StreamedOnly && Sse.IsSupported && n >= 2 * Vector512<TC>.Count;
        if (stream)
        {
            for (; i < n && ((nuint)(y + i) & 63) != 0; i++)
            {
                y[i] = S.Narrow(op.At(i));
            }

            i = (Vector512.IsHardwareAccelerated, prefetch) switch
            {
                (true, true) => Stream512<T, TC, S, TOp, Yes>(ref op, y, n, i),
                (true, false) => Stream512<T, TC, S, TOp, No>(ref op, y, n, i),
                (false, true) => Stream256<T, TC, S, TOp, Yes>(ref op, y, n, i),
                _ => Stream256<T, TC, S, TOp, No>(ref op, y, n, i),
            };
        }

        if (Vector512.IsHardwareAccelerated)
        {
            i = prefetch ? Map512<T, TC, S, TOp, Yes>(ref op, y, n, i) : Map512<T, TC, S, TOp, No>(ref op, y, n, i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = prefetch ? Map256<T, TC, S, TOp, Yes>(ref op, y, n, i) : Map256<T, TC, S, TOp, No>(ref op, y, n, i);
        }

        for (; i < n; i++)
        {
            y[i] = S.Narrow(op.At(i));
        }

        if (stream)
        {
            Sse.StoreFence(); // order the streaming stores before whatever the caller does next
        }
    }

    /// <summary>
    /// y[i] = (T)op(i) for a 16-bit storage with <see cref="IStorage{T, TC}.SignApart"/>: the op computes each vector on
    /// magnitudes and applies the signs to the narrowed patterns (<see cref="IMap{TC}.Bits(int)"/>); the tail element
    /// by element. The same bits as <see cref="Map"/>: every rounding is symmetric, so the sign of a result is the sign of
    /// its product. Rows from memory (any traffic but <see cref="RowTraffic.Cached"/>) prefetch the next row, and keep
    /// ordinary stores: float16 in one process, 2 threads, against streaming stores: [4096, 4096] 0.85-0.95x the time,
    /// [1024, 8192] 0.95-0.96x, [512, 16384] 0.97x, on both widths (bfloat16 read 1.14x, and keeps them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MapSignApart<T, TC, S, TOp>(ref TOp op, T* y, int n, RowTraffic traffic)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
    {
        int i = 0;
        bool prefetch = traffic != RowTraffic.Cached && Sse.IsSupported;
        if (Vector256.IsHardwareAccelerated)
        {
            i = prefetch ? SignApart<TC, TOp, Yes>(ref op, (ushort*)y, n) : SignApart<TC, TOp, No>(ref op, (ushort*)y, n);
        }

        for (; i < n; i++)
        {
            y[i] = S.Narrow(op.At(i));
        }
    }

    /// <summary>The elements of an even/odd block (<see cref="IStorage{T, TC}.EvenOdd"/>): two vectors of float32 lanes.</summary>
    public static int PairBlock => Vector512.IsHardwareAccelerated ? 2 * Vector512<float>.Count : 2 * Vector256<float>.Count;

    /// <summary>
    /// y[i] = (T)op(i) for a row of whole <see cref="PairBlock"/> blocks, each loaded, computed and stored as its even and
    /// odd elements (<see cref="IStorage{T, TC}.EvenOdd"/>: bfloat16 and float16, whose 32-bit lanes hold one of each); the op reads
    /// its weight in that layout (<see cref="HostStorage.WidenEvenOdd"/>). Streaming stores and prefetch as <see cref="Map"/>; for
    /// streaming, y aligned to 64 bytes. Every element takes the same operations as in <see cref="Map"/>: the same bits.
    /// </summary>
    /// <remarks>With <paramref name="signApart"/> (a <see cref="IStorage{T, TC}.SignApart"/> storage, the rows <see cref="MapSignApart"/>
    /// would take), each block is the op's <see cref="IMap{TC}.BitsEvenOdd512(int, Vector512{TC}, Vector512{TC})"/>: computed
    /// on magnitudes, the signs applied to the stored patterns.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double MapEvenOdd<T, TC, S, TOp>(ref TOp op, T* y, int n, RowTraffic traffic, bool signApart = false, T* next = null)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
    {
        return (S.SignApart && signApart, next is not null) switch
        {
            (true, true) => EvenOddBlocks<T, TC, S, TOp, Yes, Yes>(ref op, y, n, traffic, next),
            (true, false) => EvenOddBlocks<T, TC, S, TOp, Yes, No>(ref op, y, n, traffic, next),
            (false, true) => EvenOddBlocks<T, TC, S, TOp, No, Yes>(ref op, y, n, traffic, next),
            _ => EvenOddBlocks<T, TC, S, TOp, No, No>(ref op, y, n, traffic, next),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double EvenOddBlocks<T, TC, S, TOp, TSignApart, TSum>(ref TOp op, T* y, int n, RowTraffic traffic, T* next)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TSignApart : IFlag
        where TSum : IFlag
    {
        bool prefetch = traffic is RowTraffic.Prefetched or RowTraffic.Streamed && Sse.IsSupported;
        bool stream = traffic is RowTraffic.Streamed or RowTraffic.StreamedOnly && Sse.IsSupported;
        double sum = (Vector512.IsHardwareAccelerated, prefetch, stream) switch
        {
            (true, true, true) => EvenOdd512<T, TC, S, TOp, Yes, Yes, TSignApart, TSum>(ref op, y, n, next),
            (true, true, false) => EvenOdd512<T, TC, S, TOp, Yes, No, TSignApart, TSum>(ref op, y, n, next),
            (true, false, true) => EvenOdd512<T, TC, S, TOp, No, Yes, TSignApart, TSum>(ref op, y, n, next),
            (true, false, false) => EvenOdd512<T, TC, S, TOp, No, No, TSignApart, TSum>(ref op, y, n, next),
            (false, true, true) => EvenOdd256<T, TC, S, TOp, Yes, Yes, TSignApart, TSum>(ref op, y, n, next),
            (false, true, false) => EvenOdd256<T, TC, S, TOp, Yes, No, TSignApart, TSum>(ref op, y, n, next),
            (false, false, true) => EvenOdd256<T, TC, S, TOp, No, Yes, TSignApart, TSum>(ref op, y, n, next),
            _ => EvenOdd256<T, TC, S, TOp, No, No, TSignApart, TSum>(ref op, y, n, next),
        };

        if (stream)
        {
            Sse.StoreFence();
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double EvenOdd512<T, TC, S, TOp, TPrefetch, TStream, TSignApart, TSum>(ref TOp op, T* y, int n, T* next)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
        where TStream : IFlag
        where TSignApart : IFlag
        where TSum : IFlag
    {
        // Each block's values (the division and the weight: the first half of its ~45-cycle chain) are computed a block
        // ahead of its roundings and store, so the operations issued wait less on the divider and fewer of them fill the
        // scheduler (float16 [16, 4096], one thread: 0.85x the time of one block at a time, AVX-512 and AVX2).
        // With TSum, the loop also sums the squares of the next row's block at i (Squares512's steps on plain locals): its
        // add chains fill the time the map's chains wait, where the two passes apart leave each alone.
        var local = op;
        int step = 2 * Vector512<TC>.Count, i = 0;
        var (a0, a1, a2, a3) = (Vector512<double>.Zero, Vector512<double>.Zero, Vector512<double>.Zero, Vector512<double>.Zero);
        var (even, odd) = TSignApart.On ? local.MagnitudesEvenOdd512(0) : local.EvenOdd512(0);
        for (; i < n - step; i += step)
        {
            if (TPrefetch.On && ((i * sizeof(T)) & 63) == 0)
            {
                local.Prefetch(n + i); // one per 64-byte line
            }

            var ahead = TSignApart.On ? local.MagnitudesEvenOdd512(i + step) : local.EvenOdd512(i + step);
            if (TSum.On)
            {
                (a0, a1) = Squares512.Next(a0, a1, S.SquaresLoad(next + i).As<TC, float>());
                (a2, a3) = Squares512.Next(a2, a3, S.SquaresLoad(next + i + Vector512<TC>.Count).As<TC, float>());
            }

            Finish(ref local, even, odd, y + i, i);
            (even, odd) = ahead;
        }

        if (TPrefetch.On && ((i * sizeof(T)) & 63) == 0)
        {
            local.Prefetch(n + i);
        }

        if (TSum.On)
        {
            (a0, a1) = Squares512.Next(a0, a1, S.SquaresLoad(next + i).As<TC, float>());
            (a2, a3) = Squares512.Next(a2, a3, S.SquaresLoad(next + i + Vector512<TC>.Count).As<TC, float>());
        }

        Finish(ref local, even, odd, y + i, i);
        op = local;
        return TSum.On ? Squares512.From(a0, a1, a2, a3).Sum : 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Finish(ref TOp op, Vector512<TC> even, Vector512<TC> odd, T* y, int i)
        {
            if (TSignApart.On)
            {
                Store(op.BitsEvenOdd512(i, even, odd), (uint*)y, TStream.On);
            }
            else
            {
                S.StoreEvenOdd(even, odd, y, TStream.On);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double EvenOdd256<T, TC, S, TOp, TPrefetch, TStream, TSignApart, TSum>(ref TOp op, T* y, int n, T* next)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
        where TStream : IFlag
        where TSignApart : IFlag
        where TSum : IFlag
    {
        // A block's values a block ahead of its roundings and store, and the next row's squares beside, as in EvenOdd512.
        var local = op;
        int step = 2 * Vector256<TC>.Count, i = 0;
        var (a0, a1) = (Vector256<double>.Zero, Vector256<double>.Zero);
        var (even, odd) = TSignApart.On ? local.MagnitudesEvenOdd256(0) : local.EvenOdd256(0);
        for (; i < n - step; i += step)
        {
            if (TPrefetch.On && ((i * sizeof(T)) & 63) == 0)
            {
                local.Prefetch(n + i);
            }

            var ahead = TSignApart.On ? local.MagnitudesEvenOdd256(i + step) : local.EvenOdd256(i + step);
            if (TSum.On)
            {
                (a0, a1) = Squares256.Next(a0, a1, S.SquaresHalves256(next + i));
                (a0, a1) = Squares256.Next(a0, a1, S.SquaresHalves256(next + i + Vector256<TC>.Count));
            }

            Finish(ref local, even, odd, y + i, i);
            (even, odd) = ahead;
        }

        if (TPrefetch.On && ((i * sizeof(T)) & 63) == 0)
        {
            local.Prefetch(n + i);
        }

        if (TSum.On)
        {
            (a0, a1) = Squares256.Next(a0, a1, S.SquaresHalves256(next + i));
            (a0, a1) = Squares256.Next(a0, a1, S.SquaresHalves256(next + i + Vector256<TC>.Count));
        }

        Finish(ref local, even, odd, y + i, i);
        op = local;
        return TSum.On ? Squares256.From(a0, a1).Sum : 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Finish(ref TOp op, Vector256<TC> even, Vector256<TC> odd, T* y, int i)
        {
            if (TSignApart.On)
            {
                Store(op.BitsEvenOdd256(i, even, odd), (uint*)y, TStream.On);
            }
            else
            {
                S.StoreEvenOdd(even, odd, y, TStream.On);
            }
        }
    }

    /// <summary>A block of 32-bit lanes at p, with a streaming store (p aligned to the vector) or an ordinary one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<uint> block, uint* p, bool streaming)
    {
        if (streaming)
        {
            block.StoreAlignedNonTemporal(p);
        }
        else
        {
            block.Store(p);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<uint> block, uint* p, bool streaming)
    {
        if (streaming)
        {
            block.StoreAlignedNonTemporal(p);
        }
        else
        {
            block.Store(p);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sum512<TL>(ref TL load, int n, ref int start, in Squares512 initial, ref double product)
        where TL : struct, ILoad<float>
    {
        var (local, squares) = (load, initial); // locals, not references, so that the accumulators live in registers
        var (p0, p1) = (Vector512<float>.Zero, Vector512<float>.Zero);
        int i = start;
        if (typeof(TL) == typeof(RowLoad<float, float, Float32Storage>))
        {
            float* row = Unsafe.As<TL, RowLoad<float, float, Float32Storage>>(ref local).Row;
            for (; i <= n - 32; i += 32)
            {
                squares.Add(row + i); // float32 rows: widened from memory
            }
        }

        for (; i <= n - 32; i += 32)
        {
            var x0 = local.V512(i, out var t0);
            var x1 = local.V512(i + 16, out var t1);
            squares.Add(x0, x1);
            if (TL.HasProduct)
            {
                p0 = Vector512.FusedMultiplyAdd(t0, x0, p0);
                p1 = Vector512.FusedMultiplyAdd(t1, x1, p1);
            }
        }

        if (i <= n - 16)
        {
            var x0 = local.V512(i, out var t0);
            squares.Add(x0);
            p0 = TL.HasProduct ? Vector512.FusedMultiplyAdd(t0, x0, p0) : p0;
            i += 16;
        }

        (load, start) = (local, i);
        if (TL.HasProduct)
        {
            var (lo, hi) = Vector512.Widen(p0 + p1);
            product = Vector512.Sum(lo + hi) + 0d;
        }

        return squares.Sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sum256<TL>(ref TL load, int n, ref int start, in Squares256 initial, ref double product)
        where TL : struct, ILoad<float>
    {
        var (local, squares) = (load, initial); // two vectors a step, the squares in Squares256's order
        var (p0, p1) = (Vector256<float>.Zero, Vector256<float>.Zero);
        int i = start;
        for (; i <= n - 16; i += 16)
        {
            if (TL.HasHalves)
            {
                squares.Add(local.Halves256(i));
                squares.Add(local.Halves256(i + 8));
                continue;
            }

            var x0 = local.V256(i, out var t0);
            var x1 = local.V256(i + 8, out var t1);
            squares.Add(x0);
            squares.Add(x1);
            if (TL.HasProduct)
            {
                p0 = Vector256.FusedMultiplyAdd(t0, x0, p0);
                p1 = Vector256.FusedMultiplyAdd(t1, x1, p1);
            }
        }

        if (TL.HasProduct)
        {
            var (lo, hi) = Vector256.Widen(p0 + p1);
            product = 0d + Vector256.Sum(lo + hi);
        }

        if (i <= n - 8 && TL.HasHalves)
        {
            squares.Add(local.Halves256(i));
            i += 8;
        }
        else if (i <= n - 8)
        {
            var x0 = local.V256(i, out var t0);
            squares.Add(x0);
            for (int j = 0; TL.HasProduct && j < Vector256<float>.Count; j++)
            {
                product += (double)t0.GetElement(j) * x0.GetElement(j);
            }

            i += 8;
        }

        (load, start) = (local, i);
        return squares.Sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Map512<T, TC, S, TOp, TPrefetch>(ref TOp op, T* y, int n, int i)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
    {
        var local = op; // a local, so that the op's accumulators (if any) can live in registers
        for (; i <= n - Vector512<TC>.Count; i += Vector512<TC>.Count)
        {
            if (TPrefetch.On)
            {
                local.Prefetch(n + i);
            }

            S.Store(local.V512(i), y + i);
        }

        op = local;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Map256<T, TC, S, TOp, TPrefetch>(ref TOp op, T* y, int n, int i)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
    {
        var local = op;
        for (; i <= n - Vector256<TC>.Count; i += Vector256<TC>.Count)
        {
            if (TPrefetch.On && (i & (64 / sizeof(TC) - 1)) == 0)
            {
                local.Prefetch(n + i); // one per 64-byte line
            }

            S.Store(local.V256(i), y + i);
        }

        op = local;
        return i;
    }

    /// <summary>The loop of <see cref="MapSignApart"/>: 16 elements a step, one 32-byte store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SignApart<TC, TOp, TPrefetch>(ref TOp op, ushort* y, int n)
        where TC : unmanaged
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
    {
        var local = op;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            if (TPrefetch.On && (i & 31) == 0)
            {
                local.Prefetch(n + i); // one per 64-byte line
            }

            local.Bits(i).Store(y + i);
        }

        op = local;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Stream512<T, TC, S, TOp, TPrefetch>(ref TOp op, T* y, int n, int i)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
    {
        int step = Vector512<TC>.Count;
        var local = op;
        for (; i <= n - 2 * step; i += 2 * step)
        {
            if (TPrefetch.On)
            {
                local.Prefetch(n + i); // one prefetch per 64 bytes of T
                if (sizeof(T) == sizeof(TC))
                {
                    local.Prefetch(n + i + step);
                }
            }

            S.StoreStreaming(local.V512(i), local.V512(i + step), y + i);
        }

        op = local;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Stream256<T, TC, S, TOp, TPrefetch>(ref TOp op, T* y, int n, int i)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where TOp : struct, IMap<TC>
        where TPrefetch : IFlag
    {
        // AVX2: 16 elements a step (64 bytes of float32, 32 of a 16-bit type), so every line is still written whole.
        int step = Vector256<TC>.Count;
        var local = op;
        for (; i <= n - 2 * step; i += 2 * step)
        {
            if (TPrefetch.On)
            {
                local.Prefetch(n + i);
            }

            S.StoreStreaming(local.V256(i), local.V256(i + step), y + i);
        }

        op = local;
        return i;
    }
}

/// <summary>How a row map treats memory (<see cref="HostRows.Map"/>).</summary>
internal enum RowTraffic
{
    /// <summary>Rows in cache: ordinary stores, no prefetch.</summary>
    Cached,

    /// <summary>Inputs from memory, output to a cached row buffer: prefetch the next row.</summary>
    Prefetched,

    /// <summary>Inputs and output from and to memory: prefetch and non-temporal stores.</summary>
    Streamed,

    /// <summary>As <see cref="Streamed"/> without the software prefetch: long rows, whose reads the hardware prefetcher
    /// already streams (<see cref="HostCache.PrefetchedRowBytes"/>).</summary>
    StreamedOnly,
}

/// <summary>A compile-time flag of a driver loop (the JIT removes the branch).</summary>
internal interface IFlag
{
    static abstract bool On { get; }
}

internal readonly struct Yes : IFlag
{
    public static bool On => true;
}

internal readonly struct No : IFlag
{
    public static bool On => false;
}
