using System.Diagnostics;

namespace IlgpuNorm.Host;

/// <summary>
/// When a host call is worth splitting over the thread pool: each worker must get at least
/// <see cref="MinElementsPerWorker"/> elements, measured on this machine the first time a call is large enough to ask.
/// </summary>
/// <remarks>
/// <see cref="HostBlocks"/> splits a call between the caller and helper threads (<see cref="HostHelpers"/>); a helper
/// saves work only after it takes the job. Both are measured once, on the same 16 float32 rows: the time on this
/// thread, and the time split between this thread and a helper (the fastest of 15 calls each); what the split costs
/// beyond half the one-thread time is the hand-off. A worker gets at least 1.5 times the elements it would process during
/// one hand-off. A fixed
/// 1 MiB per worker suited one idle machine and kept every [16, 4096]-sized call on one thread whatever the pool's
/// latency. The environment variable <c>ILGPUNORM_HOST_MIN_PARALLEL_ELEMENTS</c> sets the threshold instead (a
/// calibrated constant per machine).
/// </remarks>
internal static class HostParallel
{
    private const long Floor = 1 << 14;
    private const long Ceiling = 1 << 20;
    /// <summary>Parallel-sized calls after which the calibration runs once more, in a settled process.</summary>
    private const int SettleAfter = 256;
    private static readonly Lazy<long> Calibrated = new(Calibrate);
    private static long settled;
    private static int asks;

    /// <summary>
    /// The fewest elements a worker is given: the first calibration, and from the <see cref="SettleAfter"/>th call that
    /// asks on, the smaller of it and a second one. A calibration in a young process can read high (helpers just
    /// started, code not yet at its final tier): one of six fresh AVX2 processes read 129 K where the others read 16-25 K,
    /// and kept [16, 4096] on one thread for its whole life.
    /// </summary>
    public static long MinElementsPerWorker
    {
        get
        {
            long value = Volatile.Read(ref settled);
            if (value > 0)
            {
                return value;
            }

            long first = Calibrated.Value;
            if (Interlocked.Increment(ref asks) == SettleAfter)
            {
                value = Math.Min(first, Calibrate());
                Volatile.Write(ref settled, value);
                return value;
            }

            return first;
        }
    }

    /// <summary>How many workers a call of <paramref name="elements"/> elements in <paramref name="items"/> independent items gets.</summary>
    public static int Workers(long elements, long items) =>
        items < 2 || elements < 2 * Floor || Environment.ProcessorCount < 2
            ? 1
            : (int)Math.Max(1, Math.Min(Math.Min(Environment.ProcessorCount, items), elements / MinElementsPerWorker));

    private static long Calibrate()
    {
        string? configured = Environment.GetEnvironmentVariable("ILGPUNORM_HOST_MIN_PARALLEL_ELEMENTS");
        if (long.TryParse(configured, out long fixedValue) && fixedValue > 0)
        {
            return fixedValue;
        }

        if (Environment.ProcessorCount < 2)
        {
            return long.MaxValue / 4;
        }

        // The work that decides: 16 rows of 4096 float32 (256 KiB, the size where splitting starts to be a question), one
        // thread against the caller plus a helper through HostBlocks, as a call runs it (back to back, the data in the
        // caller's cache). The split's cost is what it takes beyond half the one-thread time: the hand-off, the rows a
        // helper pulls from the caller's cache, the wait for it. A worker gets at least the elements it would process
        // in that time. The queue-to-start latency of an empty pool item (the earlier measure) read 2-3 µs where a whole
        // split through the pool cost 10-15 µs, and [16, 4096] ran 2.2-2.6 times slower split than on one thread.
        const int N = 4096;
        const int Rows = 16;
        var x = new float[N * Rows];
        var y = new float[N * Rows];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 1f + (i % 7);
        }

        // The fastest of 15 calls each, not the median: in a fresh process the medians of the split moved between 8 and
        // 19 µs from one process to the next (a helper just started shares a core for a while), and set anywhere from
        // 16 K to 75 K elements per worker; the minimums kept it at 16-26 K. A call that young also runs its rows
        // 1.3-1.5 times slower than later, which shrinks cost / time-per-element by as much: hence the factor 1.5.
        double single = MinTicks(15, () => Pipeline(x, y, N, Rows, workers: 1));
        double split = MinTicks(15, () => Pipeline(x, y, N, Rows, workers: 2));
        return Threshold(single, split, x.Length);
    }

    /// <summary>
    /// The fewest elements per worker from the measured times of one call of <paramref name="elements"/> elements on one
    /// thread (<paramref name="single"/>) and split in two (<paramref name="split"/>): 1.5 times the elements processed
    /// during the split's cost beyond half the single time, within [2^14, 2^20]. Where the measured call itself ran at
    /// least 10% faster split, a call of its size splits whatever that estimate says (at most elements / 2 per worker):
    /// on AVX2 the estimate read 22-41 K for 32 K per worker of [16, 4096], which split 1.2 times faster, so that call
    /// split in some processes and not in others.
    /// </summary>
    internal static long Threshold(double single, double split, long elements)
    {
        double ticksPerElement = Math.Max(single / elements, 1e-9);
        double cost = Math.Max(split - (single / 2), 0);
        long threshold = Math.Clamp((long)(1.5 * cost / ticksPerElement), Floor, Ceiling);
        return split <= 0.9 * single ? Math.Min(threshold, Math.Max(Floor, elements / 2)) : threshold;
    }

    private static unsafe void Pipeline(float[] x, float[] y, int n, int rows, int workers)
    {
        fixed (float* px = x, py = y)
        {
            HostBlocks.ForWorkers(rows, workers, new HostForward.Pipelined(px, null, py, n, 1, 1e-6f));
        }
    }

    private static double MinTicks(int count, Action action)
    {
        for (int i = 0; i < 4; i++)
        {
            action(); // untimed: JIT (tier 0, then optimized), the helper's start, its first jobs
        }

        var ticks = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }

        return ticks.Min();
    }
}
