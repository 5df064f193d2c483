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
        var spinner = default(SpinWait);
        while (Volatile.Read(ref run.Active) != 0)
        {
            spinner.SpinOnce(); // yields, then sleeps: a running block is a fraction of the call's work
        }

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

        private readonly int blocks = Blocks(items, workers);
        private readonly long perBlock = (items + Blocks(items, workers) - 1) / Blocks(items, workers);
        private readonly int[] claimed = new int[workers * Stride];
        private int joined;
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
                Interlocked.Decrement(ref Active);
            }
        }

        public void Finish() => Volatile.Write(ref finished, true);

        public void ThrowIfFailed() => failure?.Throw();

        private static int Blocks(long items, int workers) => (int)Math.Min(items, Math.Min(workers * 4L, Math.Max(workers, items / MinRowsPerBlock)));
    }
}
