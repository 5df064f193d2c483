using System.Diagnostics;

namespace IlgpuNorm.Benchmarking;

/// <summary>Times a call: a warm-up that is never timed, then batches until a minimum time and sample count, then the median.</summary>
public static class Timing
{
    /// <summary>The fewest timed samples, whatever the minimum time.</summary>
    public const int MinSamples = 5;

    /// <summary>A sample lasts at least this long: calls shorter than the timer's noise are timed in batches.</summary>
    private const double MinSampleSeconds = 50e-6;

    /// <summary>The warm-up ends only after this many calls with no JIT activity: the runtime promotes a method to optimized code after 30 calls.</summary>
    private const int MinQuietCalls = 32;

    /// <summary>
    /// The warm-up ends once no method has been JIT-compiled for min(minTime, this) seconds, but never less than
    /// <see cref="MinQuietSeconds"/>: tiered compilation recompiles hot methods in the background about 100 ms after the
    /// last new method was compiled, and a measurement that started before that would time unoptimized code (20x slower
    /// on the float16 host path).
    /// </summary>
    private const double MaxQuietSeconds = 0.25;

    /// <summary>The shortest quiet period that ends a warm-up: longer than the runtime's 100 ms tiering delay.</summary>
    private const double MinQuietSeconds = 0.12;

    /// <summary>Measures <paramref name="call"/>.</summary>
    /// <param name="call">One call on buffer set <c>s</c>; it must be complete (synchronized) when it returns.</param>
    /// <param name="sets">The buffer sets to rotate through.</param>
    /// <param name="minTime">Keep timing until this many seconds have been timed (and <see cref="MinSamples"/> samples taken).</param>
    /// <returns>The median seconds per call, and how many calls and samples were timed.</returns>
    public static TimingResult Measure(Action<int> call, int sets, double minTime)
    {
        ArgumentNullException.ThrowIfNull(call);
        int next = WarmUp(call, sets, minTime, out double single);
        int batch = (int)Math.Clamp(Math.Ceiling(MinSampleSeconds / Math.Max(single, 1e-9)), 1, 1 << 16);
        var samples = new List<double>();
        double timed = 0;
        long calls = 0;
        while (samples.Count < MinSamples || timed < minTime)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++)
            {
                call(next);
                next = next + 1 == sets ? 0 : next + 1;
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            samples.Add(seconds / batch);
            timed += seconds;
            calls += batch;
        }

        return new TimingResult(Median(samples), calls, samples.Count);
    }

    /// <summary>
    /// Measures several calls in alternation: after each one's warm-up, one timed batch of each in turn, round after round,
    /// until every call has been timed for <paramref name="minTime"/> seconds and <see cref="MinSamples"/> samples. A machine
    /// whose speed drifts (a VM's memory bandwidth moved 1.8x within one run) then moves every call's samples alike, and
    /// ratios of the medians compare calls measured over the same seconds.
    /// </summary>
    /// <param name="calls">The calls, each on buffer set <c>s</c>, complete when it returns.</param>
    /// <param name="sets">The buffer sets each call rotates through.</param>
    /// <param name="minTime">The least time each call is timed, in seconds.</param>
    /// <returns>Each call's median, in the order given.</returns>
    public static TimingResult[] MeasureInterleaved(IReadOnlyList<Action<int>> calls, int sets, double minTime)
    {
        ArgumentNullException.ThrowIfNull(calls);
        int count = calls.Count;
        var next = new int[count];
        var batch = new int[count];
        for (int k = 0; k < count; k++)
        {
            next[k] = WarmUp(calls[k], sets, minTime, out double single);
            batch[k] = (int)Math.Clamp(Math.Ceiling(MinSampleSeconds / Math.Max(single, 1e-9)), 1, 1 << 16);
        }

        var samples = Enumerable.Range(0, count).Select(_ => new List<double>()).ToArray();
        var timed = new double[count];
        var timedCalls = new long[count];
        while (samples[0].Count < MinSamples || timed.Min() < minTime)
        {
            for (int k = 0; k < count; k++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < batch[k]; i++)
                {
                    calls[k](next[k]);
                    next[k] = next[k] + 1 == sets ? 0 : next[k] + 1;
                }

                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                samples[k].Add(seconds / batch[k]);
                timed[k] += seconds;
                timedCalls[k] += batch[k];
            }
        }

        return Enumerable.Range(0, count).Select(k => new TimingResult(Median(samples[k]), timedCalls[k], samples[k].Count)).ToArray();
    }

    /// <summary>
    /// Calls every set once (the first call compiles kernels; no page is first written while timed), then goes on until
    /// the JIT has been quiet for minTime clamped to [0.12 s, 0.25 s] and for <see cref="MinQuietCalls"/> calls; or
    /// after at most max(10 × minTime, 2.5 × that quiet time), so that other threads that keep compiling (a test
    /// run) cannot stall the benchmark.
    /// </summary>
    /// <returns>The next set to use.</returns>
    private static int WarmUp(Action<int> call, int sets, double minTime, out double single)
    {
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < sets; s++)
        {
            call(s);
        }

        double quiet = Math.Clamp(minTime, MinQuietSeconds, MaxQuietSeconds);
        double cap = Math.Max(10 * minTime, 2.5 * quiet);
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        double lastCompile = clock.Elapsed.TotalSeconds;
        int next = 0;
        single = double.MaxValue;
        for (int quietCalls = 0; ; quietCalls++)
        {
            long start = Stopwatch.GetTimestamp();
            call(next);
            single = Math.Min(single, Stopwatch.GetElapsedTime(start).TotalSeconds);
            next = next + 1 == sets ? 0 : next + 1;

            double now = clock.Elapsed.TotalSeconds;
            long count = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (count != compiled)
            {
                (compiled, lastCompile, quietCalls) = (count, now, 0);
            }

            if ((quietCalls >= MinQuietCalls && now - lastCompile >= quiet) || now >= cap)
            {
                return next;
            }
        }
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(List<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
