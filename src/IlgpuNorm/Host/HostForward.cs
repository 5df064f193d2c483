using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuNorm.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The host forward pass, plain and extended (rounding policies, weight offset, bias, fused residual add, strided rows),
/// every dtype: per segment the row reduction (Σx² of x, or of the rounded x + residual) and the row map of
/// <see cref="NormOp{T, TC, S, TE}"/>, parallel over blocks of segments (<see cref="HostBlocks"/>). The same numerics as
/// the kernels: float32 accumulation (float64 for float64), a true division, rounding to the input dtype before and
/// after the weight (or once, after the bias, under <see cref="RmsNormPolicy.WeightInFloat32"/>). Plain float32 calls
/// that fit in the last-level cache run two rows at a time (<see cref="Pipeline"/>).
/// </summary>
[SkipLocalsInit]
internal static unsafe class HostForward
{
    public static void Run<T>(scoped in ForwardRequest<T> call)
        where T : unmanaged
    {
        bool plain = call.IsPlain;
        if (typeof(T) == typeof(float) && plain && !HostCache.ShouldStream(call.Problem.TotalElements * 2 * sizeof(float)))
        {
            // Plain float32 rows from cache: the row pipeline, in a frame of its own (the general driver's, with every
            // option's spans and pins, is zeroed on each call: ~10 ns of a 150 ns call).
            RunPipelined(call.Problem, Cast<T, float>(call.X), Cast<T, float>(call.W), Cast<T, float>(call.Y));
            return;
        }

        switch (call.Type)
        {
            case ElementType.Float32:
                Run<float, float, Float32Storage, Float32Storage>(call.Problem, call.Extras, plain, Cast<T, float>(call.X), Cast<T, float>(call.Residual), Cast<T, float>(call.W), Cast<T, float>(call.B), Cast<T, float>(call.Y));
                break;
            case ElementType.Float16:
                Run<ushort, float, Float16Storage, FiniteFloat16Storage>(call.Problem, call.Extras, plain, Cast<T, ushort>(call.X), Cast<T, ushort>(call.Residual), Cast<T, ushort>(call.W), Cast<T, ushort>(call.B), Cast<T, ushort>(call.Y));
                break;
            case ElementType.BFloat16:
                Run<ushort, float, BFloat16Storage, FiniteBFloat16Storage>(call.Problem, call.Extras, plain, Cast<T, ushort>(call.X), Cast<T, ushort>(call.Residual), Cast<T, ushort>(call.W), Cast<T, ushort>(call.B), Cast<T, ushort>(call.Y));
                break;
            default:
                Run<double, double, Float64Storage, Float64Storage>(call.Problem, call.Extras, plain, Cast<T, double>(call.X), Cast<T, double>(call.Residual), Cast<T, double>(call.W), Cast<T, double>(call.B), Cast<T, double>(call.Y));
                break;
        }
    }

    /// <summary>
    /// float32 rows from cache, four in flight: one loop sums the squares of rows k + 2 and k + 3 while it normalizes rows
    /// k and k + 1. A row's sum is one chain of dependent float64 adds per lane, bound by the add latency; the normalize
    /// by the divider, loads and stores. Apart, a row costs the two passes one after the other (AVX2, [16, 4096]: 6.9 µs
    /// + 6.8 µs); here two rows' chains and two rows' divisions share each turn of the loop (1.45× faster than one row
    /// beside one). Every lane does the same operations in the same order as the two separate passes, so the bits are
    /// those of the row reduction followed by the row map (tests hold them together).
    /// </summary>
    /// <remarks>Rows <paramref name="first"/> to <paramref name="last"/> (exclusive) of contiguous x into y; row s takes weight row s % groups (w may be null).</remarks>
    public static void Pipeline(float* x, float* w, float* y, int n, int groups, long first, long last, float epsilon)
    {
        if (w is null)
        {
            Pipeline<PlainRow>(x, w, y, n, groups, first, last, epsilon);
        }
        else
        {
            Pipeline<WeightedRow>(x, w, y, n, groups, first, last, epsilon);
        }
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> span)
        where TFrom : unmanaged
        where TTo : unmanaged => MemoryMarshal.Cast<TFrom, TTo>(span);

    private static Span<TTo> Cast<TFrom, TTo>(Span<TFrom> span)
        where TFrom : unmanaged
        where TTo : unmanaged => MemoryMarshal.Cast<TFrom, TTo>(span);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pipeline<TE>(float* x, float* w, float* y, int n, int groups, long first, long last, float epsilon)
        where TE : IEpilogue
    {
        if (first >= last)
        {
            return;
        }

        long s = first;
        float d = Denominator(x + s * n, n, epsilon);
        if (last - first >= 4 && (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && n >= 64)
        {
            float d1 = Denominator(x + (s + 1) * n, n, epsilon);
            for (; s + 3 < last; s += 2)
            {
                // Both rows' sqrt(Σx² / n + eps) in one vector: the same correctly rounded operations per lane.
                var next = Vector128.Sqrt(SumTwoAndNormalizeTwo<TE>(x, w, y, n, groups, s, d, d1) / Vector128.Create((float)n) + Vector128.Create(epsilon));
                d = next.ToScalar();
                d1 = next.GetElement(1);
            }

            // Rows s and s + 1 have their denominators; at most one row is left after them (below).
            NormalizeRow<TE>(x, w, y, n, groups, s, d);
            NormalizeRow<TE>(x, w, y, n, groups, s + 1, d1);
            s += 2;
            if (s == last)
            {
                return;
            }

            d = Denominator(x + s * n, n, epsilon);
        }

        // Fewer than four rows, short rows or no SIMD: one row at a time, the two passes apart.
        while (true)
        {
            NormalizeRow<TE>(x, w, y, n, groups, s, d);
            if (++s == last)
            {
                return;
            }

            d = Denominator(x + s * n, n, epsilon);
        }
    }

    private static void RunPipelined(RmsNormProblem problem, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y)
    {
        fixed (float* px = x, pw = w, py = y)
        {
            var pipelined = new Pipelined(px, w.IsEmpty ? null : pw, py, problem.SegmentLength, problem.NumGroups, (float)problem.Epsilon);
            HostBlocks.For(problem.Segments, problem.TotalElements, pipelined);
        }
    }

    /// <summary>The general driver: <typeparamref name="S"/>'s rows, and <typeparamref name="SF"/> (its roundings without
    /// NaN lanes; S itself where that saves nothing) for the plain rows that cannot hold a NaN (<see cref="Rows{T, TC, S, SF, TE}"/>).</summary>
    private static void Run<T, TC, S, SF>(RmsNormProblem problem, RmsNormExtras extras, bool plain, ReadOnlySpan<T> x, Span<T> residual, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where SF : IStorage<T, TC>
    {
        // Weight and bias in the compute type, once per call: read in place for float32/float64 (no offset), else
        // w' = offset + w widened (rounded to T under InputDtype).
        int length = problem.NormalizedLength;
        bool inPlaceWeight = S.IsCompute && extras.WeightOffset == 0;
        TC[]? weight = w.IsEmpty || inPlaceWeight ? null : ArrayPool<TC>.Shared.Rent(length);
        TC[]? bias = b.IsEmpty || S.IsCompute ? null : ArrayPool<TC>.Shared.Rent(length);
        try
        {
            fixed (T* px = x, pr = residual, py = y, pw0 = w, pb0 = b)
            fixed (TC* pwc = weight, pbc = bias)
            {
                TC* pw = w.IsEmpty ? null : inPlaceWeight ? (TC*)pw0 : pwc;
                TC* pb = b.IsEmpty ? null : S.IsCompute ? (TC*)pb0 : pbc;
                bool streaming = HostCache.ShouldStream(problem.TotalElements * 2 * sizeof(T));

                // 16-bit plain rows of whole even/odd blocks (streamed: y aligned to the 64-byte block) are mapped a block
                // at a time as its even and odd elements, and take their weight widened into that layout.
                bool evenOdd = S.EvenOdd && Vector256.IsHardwareAccelerated && plain && problem.SegmentLength % HostRows.PairBlock == 0 && (!streaming || ((nuint)py & 63) == 0);
                if (weight is not null)
                {
                    var ws = weight.AsSpan(0, length);
                    if (evenOdd)
                    {
                        HostStorage.WidenEvenOdd<T, TC, S>(w, ws);
                    }
                    else
                    {
                        HostStorage.Widen<T, TC, S>(w, ws);
                    }

                    if (extras.WeightOffset != 0)
                    {
                        // offset + w, rounded to T under InputDtype (without an offset, w widened from T is T already).
                        for (int j = 0; j < length; j++)
                        {
                            ws[j] += TC.CreateTruncating(extras.WeightOffset);
                        }

                        if (extras.Policy == RmsNormPolicy.InputDtype)
                        {
                            HostStorage.Quantize<T, TC, S>(ws);
                        }
                    }
                }

                if (bias is not null)
                {
                    HostStorage.Widen<T, TC, S>(b, bias.AsSpan(0, length));
                }

                bool finiteWeight = typeof(SF) != typeof(S) && typeof(TC) == typeof(float) && AllFinite((float*)pw, pw is null ? 0 : length);
                var call = new Call<T, TC>(px, residual.IsEmpty ? null : pr, py, pw, pb, problem, extras, streaming, finiteWeight, evenOdd, w.IsEmpty ? null : pw0);
                if (!plain)
                {
                    HostBlocks.For(problem.Segments, problem.TotalElements, new Rows<T, TC, S, SF, ExtendedRow>(call));
                }
                else if (pw is null)
                {
                    HostBlocks.For(problem.Segments, problem.TotalElements, new Rows<T, TC, S, SF, PlainRow>(call));
                }
                else
                {
                    HostBlocks.For(problem.Segments, problem.TotalElements, new Rows<T, TC, S, SF, WeightedRow>(call));
                }
            }
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<TC>.Shared.Return(weight);
            }

            if (bias is not null)
            {
                ArrayPool<TC>.Shared.Return(bias);
            }
        }
    }

    /// <summary>Whether none of the <paramref name="count"/> values at <paramref name="p"/> is NaN or infinite (true for none):
    /// the largest exponent field, eight lanes at a time.</summary>
    private static bool AllFinite(float* p, int count)
    {
        int j = 0;
        var exponents = Vector256<uint>.Zero;
        for (; Vector256.IsHardwareAccelerated && j <= count - 8; j += 8)
        {
            exponents = Vector256.Max(exponents, Vector256.Load((uint*)p + j) & Vector256.Create(0x7F80_0000u));
        }

        bool finite = Vector256.LessThanAll(exponents, Vector256.Create(0x7F80_0000u));
        for (; j < count; j++)
        {
            finite &= float.IsFinite(p[j]);
        }

        return finite;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Denominator(float* row, int n, float epsilon) => MathF.Sqrt(HostRows.SumOfSquares(new ReadOnlySpan<float>(row, n)) / n + epsilon);

    /// <summary>Row s of the pipeline normalized by <paramref name="d"/>.</summary>
    private static void NormalizeRow<TE>(float* x, float* w, float* y, int n, int groups, long s, float d)
        where TE : IEpilogue
    {
        var op = new NormOp<float, float, Float32Storage, TE>(x + s * n, w is null ? null : w + (s % groups) * n, null, d, default);
        HostRows.Map<float, float, Float32Storage, NormOp<float, float, Float32Storage, TE>>(ref op, y + s * n, n, RowTraffic.Cached);
    }

    /// <summary>Σ x² of rows s + 2 and s + 3 (lanes 0 and 1: in a register, not through the stack), and rows s and s + 1
    /// normalized by <paramref name="d0"/> and <paramref name="d1"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> SumTwoAndNormalizeTwo<TE>(float* x, float* w, float* y, int n, int groups, long s, float d0, float d1)
        where TE : IEpilogue
    {
        // One weight row (groups == 1) needs no division per pair. Plain arguments: a struct of the rows' pointers went
        // through the stack, its fields stored one by one and read back whole (no store forwarding).
        float* w0 = w is null ? null : groups == 1 ? w : w + (s % groups) * n;
        float* w1 = w is null ? null : groups == 1 ? w : w + ((s + 1) % groups) * n;
        return Vector512.IsHardwareAccelerated
            ? Interleaved512<TE>(x + s * n, w0, w1, y + s * n, n, d0, d1)
            : Interleaved256<TE>(x + s * n, w0, w1, y + s * n, n, d0, d1);
    }

    /// <summary>The interleaved loop of <see cref="SumTwoAndNormalizeTwo{TE}"/> up to the last whole step: rows x0 and
    /// x0 + n into y0 and y0 + n, sums of the two rows after them. The ops are built here and the accumulators are locals, so that both stay in registers; a row without a tail
    /// returns its sums here (what the reduction returns for i = n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> Interleaved512<TE>(float* x0, float* w0, float* w1, float* y0, int n, float d0, float d1)
        where TE : IEpilogue
    {
        var op0 = new NormOp<float, float, Float32Storage, TE>(x0, w0, null, d0, default);
        var op1 = new NormOp<float, float, Float32Storage, TE>(x0 + n, w1, null, d1, default);
        float* next0 = x0 + 2 * n, next1 = x0 + 3 * n, y1 = y0 + n;
        Squares512 p512 = default, q512 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            p512.Add(next0 + i);
            q512.Add(next1 + i);
            op0.V512(i).Store(y0 + i);
            op0.V512(i + 16).Store(y0 + i + 16);
            op1.V512(i).Store(y1 + i);
            op1.V512(i + 16).Store(y1 + i + 16);
        }

        return i == n ? Vector128.Create((float)p512.Sum, (float)q512.Sum, 0, 0) : Tails(op0, op1, next0, next1, y0, n, i, p512, q512, default, default);
    }

    /// <summary>The AVX2 loop of <see cref="SumTwoAndNormalizeTwo{TE}"/>: the sum alone is latency-bound, so two rows' chains
    /// go side by side, as <see cref="Squares256"/>'s steps on plain locals (a struct held across this loop was stored every step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> Interleaved256<TE>(float* x0, float* w0, float* w1, float* y0, int n, float d0, float d1)
        where TE : IEpilogue
    {
        var op0 = new NormOp<float, float, Float32Storage, TE>(x0, w0, null, d0, default);
        var op1 = new NormOp<float, float, Float32Storage, TE>(x0 + n, w1, null, d1, default);
        float* next0 = x0 + 2 * n, next1 = x0 + 3 * n, y1 = y0 + n;
        var (p0, p1, q0, q1) = (Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero, Vector256<double>.Zero);
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            p0 = Squares256.Next(p0, next0 + i);
            p1 = Squares256.Next(p1, next0 + i + 4);
            q0 = Squares256.Next(q0, next1 + i);
            q1 = Squares256.Next(q1, next1 + i + 4);
            p0 = Squares256.Next(p0, next0 + i + 8);
            p1 = Squares256.Next(p1, next0 + i + 12);
            q0 = Squares256.Next(q0, next1 + i + 8);
            q1 = Squares256.Next(q1, next1 + i + 12);
            op0.V256(i).Store(y0 + i);
            op0.V256(i + 8).Store(y0 + i + 8);
            op1.V256(i).Store(y1 + i);
            op1.V256(i + 8).Store(y1 + i + 8);
        }

        var (a, b) = (Squares256.From(p0, p1), Squares256.From(q0, q1));
        return i == n ? Vector128.Create((float)a.Sum, (float)b.Sum, 0, 0) : Tails(op0, op1, next0, next1, y0, n, i, default, default, a, b);
    }

    /// <summary>The rest of both rows from element i: the row maps and the reductions continued from the loop's accumulators.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector128<float> Tails<TE>(NormOp<float, float, Float32Storage, TE> op0, NormOp<float, float, Float32Storage, TE> op1, float* next0, float* next1, float* y0, int n, int i, Squares512 a512, Squares512 b512, Squares256 a256, Squares256 b256)
        where TE : IEpilogue
    {
        HostRows.Map<float, float, Float32Storage, NormOp<float, float, Float32Storage, TE>>(ref op0, y0, n, RowTraffic.Cached, i);
        HostRows.Map<float, float, Float32Storage, NormOp<float, float, Float32Storage, TE>>(ref op1, y0 + n, n, RowTraffic.Cached, i);
        var load0 = new RowLoad<float, float, Float32Storage>(next0);
        var load1 = new RowLoad<float, float, Float32Storage>(next1);
        return Vector128.Create(HostRows.SumOfSquares(ref load0, n, i, a512, a256, out _), HostRows.SumOfSquares(ref load1, n, i, b512, b256, out _), 0, 0);
    }

    /// <summary>The plain float32 rows from cache, in blocks split by <see cref="HostBlocks"/>.</summary>
    internal readonly struct Pipelined(float* x, float* w, float* y, int n, int groups, float epsilon) : IBlockBody
    {
        public void Run(long first, long last) => Pipeline(x, w, y, n, groups, first, last, epsilon);
    }

    /// <summary>One call's pointers (pinned: the call returns only when every block is done) and numbers.</summary>
    private readonly struct Call<T, TC>(T* x, T* residual, T* y, TC* w, TC* b, RmsNormProblem problem, RmsNormExtras extras, bool streaming, bool finiteWeight, bool evenOdd, T* weightBits)
        where T : unmanaged
        where TC : unmanaged
    {
        public readonly T* X = x, Residual = residual, Y = y;
        public readonly TC* W = w, B = b;
        public readonly RmsNormProblem Problem = problem;
        public readonly RmsNormExtras Extras = extras;
        public readonly bool Streaming = streaming;

        /// <summary>The weight has no NaN or infinity (or there is none), as checked when the storage has a NaN-free variant.</summary>
        public readonly bool FiniteWeight = finiteWeight;

        /// <summary>Rows mapped in even/odd blocks (<see cref="HostRows.MapEvenOdd"/>), the weight in that layout.</summary>
        public readonly bool EvenOdd = evenOdd;

        /// <summary>The stored weight's 16-bit patterns (a 16-bit storage with a weight; else null): their signs, for
        /// <see cref="IStorage{T, TC}.SignApart"/> rows.</summary>
        public readonly ushort* WeightBits = sizeof(T) == sizeof(ushort) ? (ushort*)weightBits : null;
    }

    /// <summary>
    /// The segments [first, last): the row reduction, the denominator, the row map. A plain row (no bias, residual or
    /// policy) whose Σx² is finite has only finite x (a NaN or an infinity makes the float64 sum NaN or infinite), so
    /// with d &gt; 0 every x / d is finite (|x / d| ≤ √n), and with a finite weight every product is finite or infinite,
    /// never NaN: such rows are mapped through <typeparamref name="SF"/>, whose roundings skip the NaN lanes' select
    /// (the same bits for every non-NaN value). Other rows, and storages without such a variant (SF = S), use S.
    /// </summary>
    private readonly struct Rows<T, TC, S, SF, TE>(Call<T, TC> call) : IBlockBody
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
        where SF : IStorage<T, TC>
        where TE : IEpilogue
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long first, long last)
        {
            var (problem, extras) = (call.Problem, call.Extras);
            int n = problem.SegmentLength, groups = problem.NumGroups;
            TC epsilon = TC.CreateTruncating(problem.Epsilon);
            bool summed = false; // the row's Σx² came from the map of the row before it
            TC sum = TC.Zero;
            for (long s = first; s < last; s++)
            {
                long row = s / groups;
                long inGroup = (s - row * groups) * n;
                T* xs = call.X + row * extras.InputRowStride + inGroup;
                T* source = xs;

                // Even/odd rows from cache sum the squares of the block's next row in their map loop: [16, 4096] one thread
                // 0.93-0.95x (float16, bfloat16). Not from memory, where that loop would wait on the next row's reads (1.08-1.19x).
                T* next = call.EvenOdd && !call.Streaming && call.Residual is null && s + 1 < last ? call.X + ((s + 1) / groups * extras.InputRowStride) + ((s + 1) % groups * n) : null;
                if (summed)
                {
                    summed = false;
                }
                else if (call.Residual is null)
                {
                    var load = new RowLoad<T, TC, S>(xs);
                    sum = S.SumOfSquares(ref load, n);
                }
                else
                {
                    source = call.Residual + row * extras.ResidualRowStride + inGroup;
                    var load = new ResidualLoad<T, TC, S>(xs, source);
                    sum = S.SumOfSquares(ref load, n);
                }

                TC d = TC.Sqrt((sum / TC.CreateTruncating(n)) + epsilon);
                T* y = call.Y + row * extras.OutputRowStride + inGroup;
                var traffic = call.Streaming ? HostCache.StreamedTraffic(n * sizeof(T)) : RowTraffic.Cached;
                if (typeof(SF) != typeof(S) && !TE.Extended && call.FiniteWeight && TC.IsFinite(sum) && d > TC.Zero)
                {
                    var finite = new NormOp<T, TC, SF, TE>(source, call.W is null ? null : call.W + inGroup, null, d, extras.Policy, call.WeightBits is null ? null : call.WeightBits + inGroup);
                    if (SF.SignApart && TC.IsNormal(d * SF.MagnitudeScale)) // d · scale exact (NormOp.Bits)
                    {
                        if (call.EvenOdd)
                        {
                            Summed(HostRows.MapEvenOdd<T, TC, SF, NormOp<T, TC, SF, TE>>(ref finite, y, n, traffic, signApart: true, next), next, n, ref sum, ref summed);
                        }
                        else
                        {
                            HostRows.MapSignApart<T, TC, SF, NormOp<T, TC, SF, TE>>(ref finite, y, n, traffic);
                        }
                    }
                    else
                    {
                        Map<SF, NormOp<T, TC, SF, TE>>(ref finite, y, n, traffic, call.EvenOdd, next, ref sum, ref summed);
                    }

                    continue;
                }

                var op = new NormOp<T, TC, S, TE>(source, call.W is null ? null : call.W + inGroup, call.B is null ? null : call.B + inGroup, d, extras.Policy);
                Map<S, NormOp<T, TC, S, TE>>(ref op, y, n, traffic, call.EvenOdd, next, ref sum, ref summed);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Map<SX, TOp>(ref TOp op, T* y, int n, RowTraffic traffic, bool evenOdd, T* next, ref TC sum, ref bool summed)
            where SX : IStorage<T, TC>
            where TOp : struct, IMap<TC>
        {
            if (evenOdd)
            {
                Summed(HostRows.MapEvenOdd<T, TC, SX, TOp>(ref op, y, n, traffic, next: next), next, n, ref sum, ref summed);
            }
            else
            {
                HostRows.Map<T, TC, SX, TOp>(ref op, y, n, traffic);
            }
        }

        /// <summary>The next row's Σx² from an even/odd map that summed it (none when <paramref name="next"/> is null), in S's reduction (<see cref="IStorage{T, TC}.SquaresSum"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Summed(double squares, T* next, int n, ref TC sum, ref bool summed)
        {
            if (next is not null)
            {
                sum = S.SquaresSum(squares, next, n);
                summed = true;
            }
        }
    }
}

/// <summary>Which steps a forward row map has, fixed per instantiation so that the plain loops test nothing.</summary>
internal interface IEpilogue
{
    /// <summary>A weight (with <see cref="Extended"/>: when the weight pointer is not null).</summary>
    static abstract bool Weighted { get; }

    /// <summary>Policy, bias: read from the op.</summary>
    static abstract bool Extended { get; }
}

internal readonly struct PlainRow : IEpilogue
{
    public static bool Weighted => false;

    public static bool Extended => false;
}

internal readonly struct WeightedRow : IEpilogue
{
    public static bool Weighted => true;

    public static bool Extended => false;
}

internal readonly struct ExtendedRow : IEpilogue
{
    public static bool Weighted => true;

    public static bool Extended => true;
}

/// <summary>
/// y = x / d, rounded to T (InputDtype: x · (T)(1 / d)); then with a weight y = (T)(y · w); then with a bias
/// y = (T)(y + b). Under <see cref="RmsNormPolicy.WeightInFloat32"/> the steps stay in the compute type and round once.
/// The roundings in between are <see cref="IStorage{T, TC}.Quantize(Vector512{TC})"/> (nothing for float32 and float64).
/// </summary>
internal readonly unsafe struct NormOp<T, TC, S, TE> : IMap<TC>
    where T : unmanaged
    where TC : unmanaged, IFloatingPointIeee754<TC>
    where S : IStorage<T, TC>
    where TE : IEpilogue
{
    private readonly T* x;
    private readonly TC* w;
    private readonly TC* b;
    private readonly TC scale;
    private readonly Vector512<TC> scale512;
    private readonly Vector256<TC> scale256;
    private readonly Vector512<TC> magnitudeScale512;
    private readonly Vector256<TC> magnitudeScale256;
    private readonly bool multiply;
    private readonly bool oneRounding;
    private readonly ushort* weightBits;

    /// <summary>The op of one row; <paramref name="weightBits"/>: the stored weight's 16-bit patterns, whose signs
    /// <see cref="Bits(int)"/> reads (a weighted op of a <see cref="IStorage{T, TC}.SignApart"/> storage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public NormOp(T* x, TC* w, TC* b, TC d, RmsNormPolicy policy, ushort* weightBits = null)
    {
        this.x = x;
        this.w = w;
        this.weightBits = weightBits;
        this.b = b;
        multiply = TE.Extended && policy == RmsNormPolicy.InputDtype;
        oneRounding = TE.Extended && policy == RmsNormPolicy.WeightInFloat32;
        scale = multiply ? S.Widen(S.Narrow(TC.One / d)) : d;
        scale512 = Vector512.Create(scale);
        scale256 = Vector256.Create(scale);
        magnitudeScale512 = Vector512.Create(d * S.MagnitudeScale);
        magnitudeScale256 = Vector256.Create(d * S.MagnitudeScale);
    }

    private bool HasWeight => TE.Weighted && (!TE.Extended || w is not null);

    private bool OneRounding => TE.Extended && oneRounding;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<TC> V512(int i) => Finish(S.Load(x + i), i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<TC> V256(int i) => Finish(S.Load256(x + i), i);

    /// <summary>The block at i as even and odd elements: the even ones take weight (and bias) lanes i.., the odd ones
    /// i + Count.. (the layout of <see cref="HostStorage.WidenEvenOdd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector512<TC> Even, Vector512<TC> Odd) EvenOdd512(int i)
    {
        var (even, odd) = S.LoadEvenOdd(x + i);
        return (Finish(even, i), Finish(odd, i + Vector512<TC>.Count));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector256<TC> Even, Vector256<TC> Odd) EvenOdd256(int i)
    {
        var (even, odd) = S.LoadEvenOdd256(x + i);
        return (Finish(even, i), Finish(odd, i + Vector256<TC>.Count));
    }

    /// <summary>
    /// The plain steps (x / d, then the weight: <see cref="IEpilogue.Extended"/> is not) on magnitudes, and the sign of
    /// x · w applied to the narrowed patterns: the roundings are symmetric (a value that rounds to zero included), so
    /// this is the sign each signed step would give. 16 elements: one Vector512, or two Vector256 narrowed by one pack.
    /// The quotient is |x| · s / (d · s) with s = <see cref="IStorage{T, TC}.MagnitudeScale"/> (float16: 2^-112, which
    /// saves the widening's multiply): the same real number, so the same rounding, where d · s is a normal float32 and so
    /// exact (float16: d ≥ 2^-14; the caller sends other rows to the signed map).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<ushort> Bits(int i) => Vector512.IsHardwareAccelerated ? Bits512(i) : Bits256(i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<ushort> Bits512(int i)
    {
        var raw = Vector256.Load((ushort*)x + i);
        var v = S.Magnitude(raw) / magnitudeScale512;
        if (TE.Weighted)
        {
            v = S.QuantizeMagnitude(v) * Vector512.Abs(Vector512.Load(w + i));
            raw ^= Vector256.Load(weightBits + i);
        }

        return S.MagnitudeBits(v) | (raw & Vector256.Create((ushort)0x8000));
    }

    /// <summary><see cref="Bits(int)"/> of the even/odd block at i: 32-bit lanes of two elements each, the weight in the
    /// even/odd layout, and the signs of x · w from the two halves of each lane at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector512<TC> Even, Vector512<TC> Odd) MagnitudesEvenOdd512(int i)
    {
        var (even, odd) = S.MagnitudeEvenOdd(Vector512.Load((uint*)((ushort*)x + i)));
        (even, odd) = (even / magnitudeScale512, odd / magnitudeScale512);
        if (TE.Weighted)
        {
            even = S.QuantizeMagnitude(even) * Vector512.Abs(Vector512.Load(w + i));
            odd = S.QuantizeMagnitude(odd) * Vector512.Abs(Vector512.Load(w + i + Vector512<TC>.Count));
        }

        return (even, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<uint> BitsEvenOdd512(int i, Vector512<TC> even, Vector512<TC> odd)
    {
        var raw = Vector512.Load((uint*)((ushort*)x + i));
        if (TE.Weighted)
        {
            raw ^= Vector512.Load((uint*)(weightBits + i));
        }

        return S.MagnitudeBitsEvenOdd(even, odd) | (raw & Vector512.Create(0x8000_8000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (Vector256<TC> Even, Vector256<TC> Odd) MagnitudesEvenOdd256(int i)
    {
        var (even, odd) = S.MagnitudeEvenOdd(Vector256.Load((uint*)((ushort*)x + i)));
        (even, odd) = (even / magnitudeScale256, odd / magnitudeScale256);
        if (TE.Weighted)
        {
            even = S.QuantizeMagnitude(even) * Vector256.Abs(Vector256.Load(w + i));
            odd = S.QuantizeMagnitude(odd) * Vector256.Abs(Vector256.Load(w + i + Vector256<TC>.Count));
        }

        return (even, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<uint> BitsEvenOdd256(int i, Vector256<TC> even, Vector256<TC> odd)
    {
        var raw = Vector256.Load((uint*)((ushort*)x + i));
        if (TE.Weighted)
        {
            raw ^= Vector256.Load((uint*)(weightBits + i));
        }

        return S.MagnitudeBitsEvenOdd(even, odd) | (raw & Vector256.Create(0x8000_8000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<ushort> Bits256(int i)
    {
        var first = S.Magnitude(Vector128.Load((ushort*)x + i)) / magnitudeScale256;
        var second = S.Magnitude(Vector128.Load((ushort*)x + i + 8)) / magnitudeScale256;
        var raw = Vector256.Load((ushort*)x + i);
        if (TE.Weighted)
        {
            first = S.QuantizeMagnitude(first) * Vector256.Abs(Vector256.Load(w + i));
            second = S.QuantizeMagnitude(second) * Vector256.Abs(Vector256.Load(w + i + 8));
            raw ^= Vector256.Load(weightBits + i);
        }

        return S.MagnitudeBits(first, second) | (raw & Vector256.Create((ushort)0x8000));
    }

    /// <summary>The steps after the load: x / d (or x · scale), the weight and the bias at lanes i...</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<TC> Finish(Vector512<TC> loaded, int i)
    {
        var v = TE.Extended && multiply ? loaded * scale512 : loaded / scale512;
        if (HasWeight)
        {
            v = (OneRounding ? v : S.Quantize(v)) * Vector512.Load(w + i);
        }

        if (TE.Extended && b is not null)
        {
            v = (OneRounding ? v : S.Quantize(v)) + Vector512.Load(b + i);
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<TC> Finish(Vector256<TC> loaded, int i)
    {
        var v = TE.Extended && multiply ? loaded * scale256 : loaded / scale256;
        if (HasWeight)
        {
            v = (OneRounding ? v : S.Quantize(v)) * Vector256.Load(w + i);
        }

        if (TE.Extended && b is not null)
        {
            v = (OneRounding ? v : S.Quantize(v)) + Vector256.Load(b + i);
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TC At(int i)
    {
        var v = TE.Extended && multiply ? S.Widen(x[i]) * scale : S.Widen(x[i]) / scale;
        if (HasWeight)
        {
            v = (OneRounding ? v : S.Widen(S.Narrow(v))) * w[i];
        }

        if (TE.Extended && b is not null)
        {
            v = (OneRounding ? v : S.Widen(S.Narrow(v))) + b[i];
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(int i) => Sse.Prefetch1(x + i); // into L2: a 32 KiB next row in L1 evicted the row being read (float32 [1024, 8192]: 0.76-0.89 of the time with prefetcht0)
}
