using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path: SIMD over each segment, parallel over segments for large inputs, single-threaded
/// for small ones. The same numerics as the kernels (float32 accumulation, true division, rounding
/// to the input dtype before and after the weight).
/// </summary>
internal static class HostRmsNorm
{
    /// <summary>Each thread-pool worker gets at least this many elements (<see cref="HostParallel"/>: measured on this machine).</summary>
    internal static long MinElementsPerWorker => HostParallel.MinElementsPerWorker;

    public static void Run(RmsNormProblem problem, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y)
    {
        var settings = (Epsilon: (float)problem.Epsilon, Streaming: HostVectors.ShouldStream(problem.TotalElements * 2 * sizeof(float)));
        if (!settings.Streaming)
        {
            // Rows from cache: the sums of the next rows overlap the normalize of these (HostRowPipeline).
            ForEachBlock(problem, x, w, y, static (xs, ws, ys, p, first, last, eps) =>
                HostRowPipeline.Run(xs, ws, ys, p.SegmentLength, p.NumGroups, first, last, eps), settings.Epsilon);
            return;
        }

        ForEachSegment(problem, x, w, y, [MethodImpl(MethodImplOptions.AggressiveOptimization)] static (xs, ws, ys, s) =>
        {
            float d = HostRowPipeline.Denominator(HostVectors.SumOfSquares(xs), xs.Length, s.Epsilon);
            HostVectors.Normalize(xs, d, ws, ys, s.Streaming);
        }, settings);
    }

    public static void Run(RmsNormProblem problem, ReadOnlySpan<double> x, ReadOnlySpan<double> w, Span<double> y)
    {
        var settings = (problem.Epsilon, Streaming: HostVectors.ShouldStream(problem.TotalElements * 2 * sizeof(double)));
        ForEachSegment(problem, x, w, y, [MethodImpl(MethodImplOptions.AggressiveOptimization)] static (xs, ws, ys, s) =>
        {
            double d = Math.Sqrt(HostVectors.SumOfSquares(xs) / xs.Length + s.Epsilon);
            HostVectors.Normalize(xs, d, ws, ys, s.Streaming);
        }, settings);
    }

    public static void Run(RmsNormProblem problem, ReadOnlySpan<Half> x, ReadOnlySpan<Half> w, Span<Half> y) =>
        RunSixteenBit<HalfStorage>(
            problem, MemoryMarshal.Cast<Half, ushort>(x), MemoryMarshal.Cast<Half, ushort>(w), MemoryMarshal.Cast<Half, ushort>(y));

    public static void Run(RmsNormProblem problem, ReadOnlySpan<BFloat16> x, ReadOnlySpan<BFloat16> w, Span<BFloat16> y) =>
        RunSixteenBit<BFloat16Storage>(
            problem, MemoryMarshal.Cast<BFloat16, ushort>(x), MemoryMarshal.Cast<BFloat16, ushort>(w), MemoryMarshal.Cast<BFloat16, ushort>(y));

    /// <summary>float16/bfloat16: the weight is widened to float32 once per call, not once per row.</summary>
    private static void RunSixteenBit<TConversions>(RmsNormProblem problem, ReadOnlySpan<ushort> x, ReadOnlySpan<ushort> w, Span<ushort> y)
        where TConversions : struct, IStorageConversions<ushort>
    {
        float[]? weight = w.IsEmpty ? null : ArrayPool<float>.Shared.Rent(w.Length);
        try
        {
            if (weight is not null)
            {
                TConversions.Widen(w, weight.AsSpan(0, w.Length));
            }

            ForEachSegment<ushort, float, float>(
                problem,
                x,
                weight is null ? default : weight.AsSpan(0, w.Length),
                y,
                static (xs, ws, ys, eps) => SixteenBitSegment<TConversions>(xs, ws, ys, eps),
                (float)problem.Epsilon);
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<float>.Shared.Return(weight);
            }
        }
    }

    /// <summary>
    /// One float16 or bfloat16 segment: the row widened to float32 once (kept for the second pass), summed,
    /// normalized, rounded to the storage type, then (with a weight) multiplied in float32 — exact for two 16-bit
    /// values — and rounded again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SixteenBitSegment<TConversions>(ReadOnlySpan<ushort> xs, ReadOnlySpan<float> ws, Span<ushort> ys, float eps)
        where TConversions : struct, IStorageConversions<ushort>
    {
        int n = xs.Length;
        if (HostSixteenBit.IsAccelerated)
        {
            // One pass to sum and one to normalize, converting in registers (no float32 row buffer); same bits.
            bool half = typeof(TConversions) == typeof(HalfStorage);
            float sum = half ? HostSixteenBit.SumOfSquaresFloat16(xs) : HostSixteenBit.SumOfSquaresBFloat16(xs);
            float denominator = MathF.Sqrt(sum / n + eps);
            if (half)
            {
                HostSixteenBit.NormalizeFloat16(xs, denominator, ws, ys);
            }
            else
            {
                HostSixteenBit.NormalizeBFloat16(xs, denominator, ws, ys);
            }

            return;
        }

        float[] rented = ArrayPool<float>.Shared.Rent(n);
        Span<float> a = rented.AsSpan(0, n);
        TConversions.Widen(xs, a);
        float d = MathF.Sqrt(HostVectors.SumOfSquares(a) / n + eps);
        HostVectors.Normalize<float>(a, d, default, a);
        TConversions.Narrow(a, ys);
        if (!ws.IsEmpty)
        {
            TConversions.Widen(ys, a);
            TensorPrimitives.Multiply(a, ws, a);
            TConversions.Narrow(a, ys);
        }

        ArrayPool<float>.Shared.Return(rented);
    }

    private delegate void SegmentAction<T, TW, TEps>(ReadOnlySpan<T> x, ReadOnlySpan<TW> w, Span<T> y, TEps epsilon);

    private delegate void BlockAction<T, TW, TEps>(ReadOnlySpan<T> x, ReadOnlySpan<TW> w, Span<T> y, RmsNormProblem problem, long first, long last, TEps epsilon);

    /// <summary>Runs <paramref name="action"/> on every segment with its weight slice (<see cref="ForEachBlock"/>).</summary>
    private static void ForEachSegment<T, TW, TEps>(RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<TW> w, Span<T> y, SegmentAction<T, TW, TEps> action, TEps epsilon)
        where T : unmanaged
        where TW : unmanaged =>
        ForEachBlock(problem, x, w, y, static (xs, ws, ys, p, first, last, state) =>
        {
            int n = p.SegmentLength;
            for (long s = first; s < last; s++)
            {
                var rowWeight = ws.IsEmpty ? default : ws.Slice((int)(s % p.NumGroups) * n, n);
                state.Action(xs.Slice(checked((int)(s * n)), n), rowWeight, ys.Slice(checked((int)(s * n)), n), state.Epsilon);
            }
        }, (Action: action, Epsilon: epsilon));

    /// <summary>
    /// Runs <paramref name="action"/> on contiguous blocks of segments [first, last), over the whole x, w and y: one block
    /// on this thread for small inputs, several over the thread pool otherwise (<see cref="HostBlocks"/>, the one
    /// row-parallel loop of the host paths; <see cref="HostParallel"/> decides how many workers).
    /// </summary>
    private static unsafe void ForEachBlock<T, TW, TEps>(RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<TW> w, Span<T> y, BlockAction<T, TW, TEps> action, TEps epsilon)
        where T : unmanaged
        where TW : unmanaged
    {
        if (HostParallel.Workers(problem.TotalElements, problem.Segments) <= 1)
        {
            action(x, w, y, problem, 0, problem.Segments, epsilon);
            return;
        }

        // Spans cannot be fields of the body: pin and pass pointers (the call returns only when every block is done).
        fixed (T* px = x, py = y)
        fixed (TW* pw = w)
        {
            var body = new Block<T, TW, TEps>((nint)px, x.Length, (nint)pw, w.Length, (nint)py, y.Length, problem, action, epsilon);
            HostBlocks.For(problem.Segments, problem.TotalElements, body);
        }
    }

    private readonly unsafe struct Block<T, TW, TEps>(nint x, int xLength, nint w, int wLength, nint y, int yLength, RmsNormProblem problem, BlockAction<T, TW, TEps> action, TEps epsilon) : IBlockBody
        where T : unmanaged
        where TW : unmanaged
    {
        public void Run(long first, long last) =>
            action(new ReadOnlySpan<T>((T*)x, xLength), new ReadOnlySpan<TW>((TW*)w, wLength), new Span<T>((T*)y, yLength), problem, first, last, epsilon);
    }
}
