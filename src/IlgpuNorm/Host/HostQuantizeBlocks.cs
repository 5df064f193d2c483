using System.Runtime.ExceptionServices;

namespace IlgpuNorm.Host;

/// <summary>The work of one contiguous block of items, as a struct so that a call allocates no closure.</summary>
internal interface IBlockBody
{
    /// <summary>Runs the items [first, last).</summary>
    void Run(long first, long last);
}

/// <summary>Splits work over contiguous blocks of items on the thread pool when it is large enough to pay.</summary>
internal static class HostBlocks
{
    /// <summary>Runs <paramref name="body"/>(first, last) over [0, items) in contiguous blocks: one block when the work is small.</summary>
    /// <param name="items">Items (segments) in all.</param>
    /// <param name="elements">Elements in all (sets the number of workers, as <see cref="HostRmsNorm.MinElementsPerWorker"/>).</param>
    /// <param name="body">The work on [first, last).</param>
    public static void For(long items, long elements, Action<long, long> body)
    {
        int workers = Workers(items, elements);
        if (workers <= 1)
        {
            body(0, items);
            return;
        }

        int blocks = (int)Math.Min(items, workers * 4L);
        long perBlock = (items + blocks - 1) / blocks;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, block =>
        {
            long first = block * perBlock;
            body(first, Math.Min(items, first + perBlock));
        });
    }

    /// <summary>
    /// <see cref="For(long, long, Action{long, long})"/> with a struct body and no managed allocation in steady state:
    /// a single-threaded call (small work) runs inline; a parallel one reuses a cached thread-pool work item.
    /// </summary>
    /// <typeparam name="TBody">The body.</typeparam>
    /// <param name="items">Items (segments) in all.</param>
    /// <param name="elements">Elements in all (sets the number of workers, as <see cref="HostRmsNorm.MinElementsPerWorker"/>).</param>
    /// <param name="body">The work on [first, last).</param>
    public static void For<TBody>(long items, long elements, in TBody body)
        where TBody : struct, IBlockBody
    {
        int workers = Workers(items, elements);
        if (workers <= 1)
        {
            body.Run(0, items);
            return;
        }

        RunParallel(items, workers, body);
    }

    /// <summary>
    /// The parallel case: the caller and <paramref name="workers"/> − 1 thread-pool work items claim blocks from a shared
    /// counter. The work item is cached per body type and reused, so a steady stream of calls allocates nothing (a call
    /// that finds the cache taken by a concurrent one uses a fresh item).
    /// </summary>
    private static void RunParallel<TBody>(long items, int workers, TBody body)
        where TBody : struct, IBlockBody
    {
        var run = Interlocked.Exchange(ref ParallelRun<TBody>.Cached, null) ?? new ParallelRun<TBody>();
        run.Start(items, workers, body);
        try
        {
            for (int k = 1; k < workers; k++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(run, preferLocal: false);
            }

            run.Execute();
            run.Done.Wait();
            run.ThrowIfFailed();
        }
        finally
        {
            run.Body = default;
            Volatile.Write(ref ParallelRun<TBody>.Cached, run);
        }
    }

    private static int Workers(long items, long elements) =>
        (int)Math.Min(Math.Min(Environment.ProcessorCount, items), elements / HostRmsNorm.MinElementsPerWorker);

    /// <summary>One parallel call's shared state: blocks are claimed with an interlocked counter; the call returns only
    /// once every participant (the caller and each queued item) has finished, so a reused item never meets a straggler.</summary>
    private sealed class ParallelRun<TBody> : IThreadPoolWorkItem, IDisposable
        where TBody : struct, IBlockBody
    {
        public static ParallelRun<TBody>? Cached;

        public readonly ManualResetEventSlim Done = new(false);

        public TBody Body;
        private long items;
        private long perBlock;
        private int blocks;
        private int next;
        private int participants;
        private ExceptionDispatchInfo? failure;

        public void Start(long itemCount, int workers, TBody body)
        {
            Body = body;
            items = itemCount;
            blocks = (int)Math.Min(itemCount, workers * 4L);
            perBlock = (itemCount + blocks - 1) / blocks;
            next = 0;
            participants = workers;
            failure = null;
            Done.Reset();
        }

        public void Execute()
        {
            try
            {
                while (true)
                {
                    int block = Interlocked.Increment(ref next) - 1;
                    if (block >= blocks)
                    {
                        break;
                    }

                    long first = block * perBlock;
                    Body.Run(first, Math.Min(items, first + perBlock));
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                Volatile.Write(ref next, int.MaxValue / 2); // the others stop claiming
            }
            finally
            {
                if (Interlocked.Decrement(ref participants) == 0)
                {
                    Done.Set();
                }
            }
        }

        public void ThrowIfFailed() => failure?.Throw();

        /// <summary>Frees the event (the cached item lives as long as the process, so this is for completeness).</summary>
        public void Dispose() => Done.Dispose();
    }
}
