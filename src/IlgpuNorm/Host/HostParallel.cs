using System.Diagnostics;

namespace IlgpuNorm.Host;

/// <summary>
/// When a host call is worth splitting over the thread pool: each worker must get at least
/// <see cref="MinElementsPerWorker"/> elements, measured on this machine the first time a call is large enough to ask.
/// </summary>
/// <remarks>
/// <see cref="HostBlocks"/> splits a call between the caller and pool threads; a pool thread saves work only after it
/// wakes up and starts. Both costs are measured once: the hand-off as the median time from queueing a work item to its
/// start (16 tries), the work as the median time of a few float32 rows normalized on this thread. A worker gets at
/// least twice the elements it would process during one hand-off, so a split never costs more than it can save. A fixed
/// 1 MiB per worker suited one idle machine and kept every [16, 4096]-sized call on one thread whatever the pool's
/// latency. The environment variable <c>ILGPUNORM_HOST_MIN_PARALLEL_ELEMENTS</c> sets the threshold instead (a
/// calibrated constant per machine).
/// </remarks>
internal static class HostParallel
{
    private const long Floor = 1 << 14;
    private const long Ceiling = 1 << 20;
    private static readonly Lazy<long> Calibrated = new(Calibrate);

    /// <summary>The fewest elements a worker is given.</summary>
    public static long MinElementsPerWorker => Calibrated.Value;

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

        double handOff = MedianTicks(16, static () =>
        {
            var item = new Started();
            ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
            var spinner = default(SpinWait);
            while (!Volatile.Read(ref item.Done))
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        });

        const int N = 2048;
        const int Rows = 8;
        var x = new float[N * Rows];
        var y = new float[N * Rows];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 1f + (i % 7);
        }

        double rowsTicks = MedianTicks(5, () => Pipeline(x, y, N, Rows));
        double ticksPerElement = Math.Max(rowsTicks / x.Length, 1e-9);
        return Math.Clamp((long)(2 * handOff / ticksPerElement), Floor, Ceiling);
    }

    private static unsafe void Pipeline(float[] x, float[] y, int n, int rows)
    {
        fixed (float* px = x, py = y)
        {
            HostForward.Pipeline(px, null, py, n, 1, 0, rows, 1e-6f);
        }
    }

    private sealed class Started : IThreadPoolWorkItem
    {
        public bool Done;

        public void Execute() => Volatile.Write(ref Done, true);
    }

    private static double MedianTicks(int count, Action action)
    {
        action(); // first call: JIT, thread creation
        var ticks = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(ticks);
        return ticks[count / 2];
    }
}
