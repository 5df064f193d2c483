using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace IlgpuNorm.Host;

/// <summary>The work of one contiguous block of items, as a struct so that a call allocates no closure.</summary>
internal interface IBlockBody
{
    /// <summary>Runs the items [first, last).</summary>
    void Run(long first, long last);
}

/// <summary>Splits work over contiguous blocks of items on the thread pool when it is large enough to pay.</summary>
[SkipLocalsInit]
internal static class HostBlocks
{
    /// <summary>
    /// Runs <paramref name="body"/>(first, last) over [0, items) in contiguous blocks: a single-threaded call (small work)
    /// runs inline, with no managed allocation; a parallel one is shared by the caller and helper threads.
    /// </summary>
    /// <typeparam name="TBody">The body.</typeparam>
    /// <param name="items">Items (segments) in all.</param>
    /// <param name="elements">Elements in all (sets the number of workers: <see cref="HostParallel.Workers"/>).</param>
    /// <param name="body">The work on [first, last).</param>
    public static void For<TBody>(long items, long elements, in TBody body)
        where TBody : struct, IBlockBody
    {
        ForWorkers(items, Workers(items, elements), body);
    }

    /// <summary>
    /// The parallel case: the caller and <paramref name="workers"/> − 1 helpers (<see cref="HostHelpers"/>; a thread-pool
    /// work item where a helper is busy with another call) claim blocks (<see cref="ParallelRun{TBody}"/>). The caller works until every block is claimed, then waits only for the participants that are running a
    /// block, never for a queued item that has not started: on a busy thread pool (many callers at once) a call must not
    /// wait for the pool to find a thread. A late item finds no block left and returns. Two small objects per parallel call (the
    /// run and its counters); none for single-threaded calls.
    /// </summary>
    private static void RunParallel<TBody>(long items, int workers, TBody body)
        where TBody : struct, IBlockBody
    {
        var run = new ParallelRun<TBody>(items, workers, body);
        for (int k = 1; k < workers; k++)
        {
            if (!HostHelpers.TryPost(k - 1, run))
            {
                ThreadPool.UnsafeQueueUserWorkItem(run, preferLocal: false);
            }
        }

        run.Participate(0);
        run.WaitForParticipants();

        run.Finish(); // every block ran: a helper still holding the run may be given another
        run.ThrowIfFailed();
    }

    /// <summary>As <see cref="For{TBody}(long, long, in TBody)"/> with the number of workers given (the calibration of
    /// <see cref="HostParallel"/>, which cannot ask itself).</summary>
    public static void ForWorkers<TBody>(long items, int workers, in TBody body)
        where TBody : struct, IBlockBody
    {
        if (workers <= 1)
        {
            body.Run(0, items);
            return;
        }

        RunParallel(items, workers, body);
    }

    private static int Workers(long items, long elements) => HostParallel.Workers(elements, items);

    /// <summary>
    /// One parallel call's shared state. The blocks are cut into one home range per participant (the caller's is the
    /// first, the helpers' or pool items' the others, in the order they start), each with its own counter: a participant claims the
    /// blocks of its home range, then those left in the others (a late helper's work is done by whoever is free).
    /// So when every participant is on time, each runs the same rows call after call, and rows that stay in a core's cache
    /// between calls are read there: with one shared counter the rows went to whichever thread came first, and a split
    /// [16, 4096] (a 256 KiB input in cache) took 28-42 µs, 2-4 times one thread, while moving between the cores' caches.
    /// <see cref="Active"/> counts the participants inside <see cref="Participate"/> (incremented before a participant
    /// claims anything). Up to four blocks per participant, of at least <see cref="MinRowsPerBlock"/> items where there
    /// are enough: the float32 pipeline (<see cref="HostForward.Pipeline(float*, float*, float*, int, int, long, long, float)"/>)
    /// overlaps rows only within a block of four or more, and [16, 4096] cut into 2-row blocks ran unpipelined.
    /// </summary>
    private sealed class ParallelRun<TBody>(long items, int workers, TBody body) : IHelperJob
        where TBody : struct, IBlockBody
    {
        private const int Stride = 16; // one counter per 64-byte line

        /// <summary>How long the caller spins for the other participants before it blocks: 50 µs, as a helper waits for a job.</summary>
        private static readonly long SpinTicks = Stopwatch.Frequency / 20_000;

        public int Active;

        private bool finished;

        /// <summary>Set by the caller (<see cref="Finish"/>) once every block has run and no participant is inside.</summary>
        public bool Finished => Volatile.Read(ref finished);

        /// <summary>
        /// Blocks of at least 8 items where each participant still gets one: with helpers that take a finished job's
        /// successor (<see cref="IHelperJob"/>), [16, 4096] in separate processes (20,000 calls each, the median of six
        /// processes' means) took 8.3 µs against 12.0 µs with 2-row blocks on AVX2, and 9.0 µs against 12.3 µs on AVX-512.
        /// </summary>
        private const long MinRowsPerBlock = 8;

        /// <summary>The fewest items of a block where a call is cut finer than four blocks per participant (<see cref="Blocks"/>).</summary>
        private const long FineRowsPerBlock = 32;

        private readonly int blocks = Blocks(items, workers);
        private readonly long perBlock = (items + Blocks(items, workers) - 1) / Blocks(items, workers);
        private readonly int[] claimed = new int[workers * Stride];
        private int joined;
        private int blocking; // 1 once the caller stops spinning: the last participant to leave then pulses it
        private ExceptionDispatchInfo? failure;

        /// <summary>A helper or pool item: the next home range.</summary>
        public void Execute() => Participate(Math.Min(Interlocked.Increment(ref joined), workers - 1));

        /// <summary>Runs blocks of home range <paramref name="home"/>, then of the ranges after it, until none is left.</summary>
        public void Participate(int home)
        {
            Interlocked.Increment(ref Active);
            try
            {
                for (int k = 0; k < workers; k++)
                {
                    int range = (home + k) % workers;
                    int first = (int)((long)blocks * range / workers), count = (int)((long)blocks * (range + 1) / workers) - first;
                    while (true)
                    {
                        int index = Interlocked.Increment(ref claimed[range * Stride]) - 1;
                        if (index >= count)
                        {
                            break;
                        }

                        long start = (first + index) * perBlock;
                        if (start < items)
                        {
                            body.Run(start, Math.Min(items, start + perBlock));
                        }
                    }
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                for (int range = 0; range < workers; range++)
                {
                    Volatile.Write(ref claimed[range * Stride], int.MaxValue / 2); // the others stop claiming
                }
            }
            finally
            {
                if (Interlocked.Decrement(ref Active) == 0 && Volatile.Read(ref blocking) != 0)
                {
                    lock (claimed)
                    {
                        Monitor.PulseAll(claimed); // the caller, if it blocked: every claimed block has run
                    }
                }
            }
        }

        /// <summary>
        /// The caller, once every block is claimed: spins up to <see cref="SpinTicks"/> for the participants still inside,
        /// then blocks until the last one leaves (<see cref="Participate"/> pulses). A wait with <see cref="SpinWait.SpinOnce()"/>
        /// slept 1 ms at a time once its spin ran out, often past the helper's end: [4096, 4096] on 2 threads (Zen 4, float16,
        /// bfloat16 and float32, both widths) waited 305-620 µs a call on average, a tenth of the calls 1.1 ms, against
        /// 3.1-4.1 ms of work; this wait, 105-212 µs (the rest is the blocks' imbalance, see <see cref="Blocks"/>).
        /// </summary>
        public void WaitForParticipants()
        {
            var spinner = default(SpinWait);
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref Active) != 0)
            {
                if (spinner.NextSpinWillYield && Stopwatch.GetTimestamp() > deadline)
                {
                    // A full fence before the read of Active, as the decrement is before the read of 'blocking' in
                    // Participate: one of the two sees the other, so the last participant pulses or the caller sees zero.
                    Interlocked.Exchange(ref blocking, 1);
                    lock (claimed)
                    {
                        while (Volatile.Read(ref Active) != 0)
                        {
                            Monitor.Wait(claimed);
                        }
                    }

                    return;
                }

                spinner.SpinOnce(sleep1Threshold: -1); // spins, then yields; never sleeps
            }
        }

        public void Finish() => Volatile.Write(ref finished, true);

        public void ThrowIfFailed() => failure?.Throw();

        /// <summary>
        /// Up to four blocks per participant of at least <see cref="MinRowsPerBlock"/> items; calls of many items up to
        /// sixteen of at least <see cref="FineRowsPerBlock"/>, so that the participant that finishes first waits at most
        /// a sixteenth of its share for the last one ([4096, 4096] on 2 threads: the caller's wait averaged 105-212 µs a
        /// call with 8 blocks, 66-119 µs with 32, against 2.7-3.8 ms of work).
        /// </summary>
        private static int Blocks(long items, int workers)
        {
            long few = Math.Min(workers * 4L, Math.Max(workers, items / MinRowsPerBlock));
            long fine = Math.Min(workers * 16L, items / FineRowsPerBlock);
            return (int)Math.Min(items, Math.Max(few, fine));
        }
    }
}
