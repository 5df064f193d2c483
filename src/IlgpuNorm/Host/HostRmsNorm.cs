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
            // Rows from cache: the sum of the next row overlaps the normalize of this one (HostRowPipeline).
            ForEachBlock(problem, x, w, y, static (xs, ws, ys, p, first, last, eps) =>
                HostRowPipeline.Run(xs, ws, ys, p.SegmentLength, p.NumGroups, first, last, eps), settings.Epsilon);
            return;
        }

        ForEachSegment(problem, x, w, y, [MethodImpl(MethodImplOptions.AggressiveOptimization)] static (xs, ws, ys, s) =>
        {
            float d = MathF.Sqrt(HostVectors.SumOfSquares(xs) / xs.Length + s.Epsilon);
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

    /// <summary>
    /// Runs <paramref name="action"/> on every segment with its weight slice; splits the segments into
    /// contiguous blocks over the thread pool when the input is large.
    /// </summary>
    private static unsafe void ForEachSegment<T, TW, TEps>(RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<TW> w, Span<T> y, SegmentAction<T, TW, TEps> action, TEps epsilon)
        where T : unmanaged
        where TW : unmanaged
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        long segments = problem.Segments;
        int workers = HostParallel.Workers(problem.TotalElements, segments);
        if (workers <= 1)
        {
            for (long s = 0; s < segments; s++)
            {
                int wOffset = (int)(s % groups) * n;
                action(x.Slice(checked((int)(s * n)), n), w.IsEmpty ? default : w.Slice(wOffset, n), y.Slice((int)(s * n), n), epsilon);
            }

            return;
        }

        // Spans cannot cross into lambdas: pin and pass pointers. Blocks are contiguous so no two
        // workers write the same cache line except at block edges.
        fixed (T* px = x, py = y)
        fixed (TW* pw = w)
        {
            nint xa = (nint)px, wa = (nint)pw, ya = (nint)py;
            bool hasWeight = !w.IsEmpty;
            int blocks = (int)Math.Min(segments, workers * 4L);
            long perBlock = (segments + blocks - 1) / blocks;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, block =>
            {
                long first = block * perBlock;
                long last = Math.Min(segments, first + perBlock);
                for (long s = first; s < last; s++)
                {
                    var xs = new ReadOnlySpan<T>((T*)xa + s * n, n);
                    var ws = hasWeight ? new ReadOnlySpan<TW>((TW*)wa + (s % groups) * n, n) : default;
                    var ys = new Span<T>((T*)ya + s * n, n);
                    action(xs, ws, ys, epsilon);
                }
            });
        }
    }

    private delegate void BlockAction<TEps>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, RmsNormProblem problem, long first, long last, TEps epsilon);

    /// <summary>
    /// Runs <paramref name="action"/> on contiguous blocks of segments [first, last) over the whole x, w and y: one block
    /// on this thread for small inputs, several over the thread pool otherwise.
    /// </summary>
    private static unsafe void ForEachBlock<TEps>(RmsNormProblem problem, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, BlockAction<TEps> action, TEps epsilon)
    {
        long segments = problem.Segments;
        int workers = HostParallel.Workers(problem.TotalElements, segments);
        if (workers <= 1)
        {
            action(x, w, y, problem, 0, segments, epsilon);
            return;
        }

        fixed (float* px = x, py = y, pw = w)
        {
            nint xa = (nint)px, wa = (nint)pw, ya = (nint)py;
            int xLength = x.Length, wLength = w.Length, yLength = y.Length;
            int blocks = (int)Math.Min(segments, workers * 4L);
            long perBlock = (segments + blocks - 1) / blocks;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, block =>
            {
                long first = block * perBlock;
                long last = Math.Min(segments, first + perBlock);
                action(
                    new ReadOnlySpan<float>((float*)xa, xLength),
                    new ReadOnlySpan<float>((float*)wa, wLength),
                    new Span<float>((float*)ya, yLength),
                    problem,
                    first,
                    last,
                    epsilon);
            });
        }
    }
}
