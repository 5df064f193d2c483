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
    /// <see cref="For(long, long, Action{long, long})"/> with a struct body: a single-threaded call (small work) allocates
    /// nothing; a parallel one only what <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> needs.
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

    /// <summary>The parallel case, apart so that its closure is not allocated on the single-threaded path.</summary>
    private static void RunParallel<TBody>(long items, int workers, TBody body)
        where TBody : struct, IBlockBody
    {
        int blocks = (int)Math.Min(items, workers * 4L);
        long perBlock = (items + blocks - 1) / blocks;
        System.Threading.Tasks.Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, block =>
        {
            long first = block * perBlock;
            body.Run(first, Math.Min(items, first + perBlock));
        });
    }

    private static int Workers(long items, long elements) =>
        (int)Math.Min(Math.Min(Environment.ProcessorCount, items), elements / HostRmsNorm.MinElementsPerWorker);
}
