namespace IlgpuNorm.Benchmarking;

/// <summary>
/// Measures the host path end to end through the public API (<see cref="RmsNorm"/> with <see cref="DeviceRequest.Host"/>,
/// validation and dispatch included), and the copy limit of the same bytes on the same buffers: one thread
/// (<c>Span.CopyTo</c>) and every core (<c>Parallel.For</c> over contiguous parts), the better of the two being the limit.
/// The three are timed in alternation (<see cref="Timing.MeasureInterleaved"/>), so that each cell's percentage of the
/// copy compares times taken over the same seconds: measured one after the other, the copy of one byte count read
/// 23.6 GB/s for float32 and 41.7 GB/s for float16 within one run, and the percentages moved with it.
/// </summary>
public static unsafe class HostBench
{
    /// <summary>Measures one dtype and shape.</summary>
    /// <param name="device">The host device, for the report.</param>
    /// <param name="type">The dtype.</param>
    /// <param name="shape">The shape.</param>
    /// <param name="minTime">The least time of each measurement, in seconds.</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="InvalidOperationException">The output differs from the reference.</exception>
    public static BenchResult Run(DeviceInfo device, ElementType type, BenchShape shape, double minTime) => type switch
    {
        ElementType.Float32 => Run<float>(device, type, shape, minTime),
        ElementType.Float16 => Run<Half>(device, type, shape, minTime),
        ElementType.BFloat16 => Run<BFloat16>(device, type, shape, minTime),
        _ => Run<double>(device, type, shape, minTime),
    };

    private static unsafe BenchResult Run<T>(DeviceInfo device, ElementType type, BenchShape shape, double minTime)
        where T : unmanaged
    {
        int length = checked((int)shape.Elements);
        long copyBytes = 2L * length * sizeof(T);
        int sets = CachePolicy.BufferSets(copyBytes, CachePolicy.LastLevelCache);
        var random = new Random(BenchData.SeedOf(type, shape));
        var xs = new NativeBuffer<T>[sets];
        var ys = new NativeBuffer<T>[sets];
        using var w = new NativeBuffer<T>(shape.Hidden);
        try
        {
            BenchData.FillWeight(w.Span, random);
            for (int s = 0; s < sets; s++)
            {
                xs[s] = new NativeBuffer<T>(length);
                ys[s] = new NativeBuffer<T>(length);
                BenchData.FillInput(xs[s].Span, random);
            }

            int[] dims = [shape.Rows, shape.Hidden];
            int[] normalized = [shape.Hidden];
            var options = new RmsNormOptions { Device = DeviceRequest.Host };
            int threads = Environment.ProcessorCount;
            var timings = Timing.MeasureInterleaved(
                [
                    s => RmsNorm.Compute<T>(xs[s].Span, dims, normalized, w.Span, ys[s].Span, options),
                    s => xs[s].Span.CopyTo(ys[s].Span),
                    s => CopyParallel(xs[s], ys[s], threads),
                ],
                sets,
                minTime);
            var timing = timings[0];
            var copy = Copy(copyBytes, timings[1], timings[2], threads);

            // The copies overwrote y: one more call, then check the first and last rows of set 0.
            RmsNorm.Compute<T>(xs[0].Span, dims, normalized, w.Span, ys[0].Span, options);
            BenchData.CheckFirstAndLastRows<T>(xs[0].Span, w.Span, ys[0].Span, shape);

            return new BenchResult
            {
                Backend = device.Request.ToString(),
                Device = device.Name,
                Type = type,
                Shape = shape,
                Data = sets == 1 ? "cache" : "memory",
                BufferSets = sets,
                MedianSeconds = timing.MedianSeconds,
                Iterations = timing.Calls,
                Samples = timing.Samples,
                Copy = copy,
            };
        }
        finally
        {
            foreach (var buffer in xs.Concat(ys))
            {
                buffer?.Dispose();
            }
        }
    }

    private static CopyMeasurement Copy(long copyBytes, TimingResult single, TimingResult parallel, int threads)
    {
        double singleGbps = copyBytes / single.MedianSeconds / 1e9;
        double parallelGbps = copyBytes / parallel.MedianSeconds / 1e9;
        return new CopyMeasurement(
            Math.Max(singleGbps, parallelGbps),
            singleGbps >= parallelGbps ? "Span.CopyTo, 1 thread" : $"Parallel.For, {threads} threads",
            singleGbps,
            parallelGbps,
            threads);
    }

    /// <summary>
    /// The all-core copy limit: <paramref name="source"/> copied to <paramref name="destination"/> by
    /// <c>Parallel.For</c> over <paramref name="parts"/> contiguous parts (<see cref="Part"/>), each a <c>Span.CopyTo</c>.
    /// </summary>
    public static void CopyParallel<T>(T* source, T* destination, int length, int parts)
        where T : unmanaged =>
        Parallel.For(0, parts, part =>
        {
            var (start, count) = Part(length, parts, part);
            new Span<T>(source + start, count).CopyTo(new Span<T>(destination + start, count));
        });

    private static void CopyParallel<T>(NativeBuffer<T> source, NativeBuffer<T> destination, int parts)
        where T : unmanaged
    {
        fixed (T* from = source.Span, to = destination.Span)
        {
            CopyParallel(from, to, source.Length, parts);
        }
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> contiguous parts of <paramref name="length"/> elements, split on 64-element boundaries.</summary>
    public static (int Start, int Count) Part(int length, int parts, int part)
    {
        const int Granule = 64;
        long per = (((long)length + parts - 1) / parts + Granule - 1) / Granule * Granule;
        long start = Math.Min(length, part * per);
        long end = Math.Min(length, start + per);
        return ((int)start, (int)(end - start));
    }
}
