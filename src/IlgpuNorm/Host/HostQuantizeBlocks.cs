namespace IlgpuNorm.Host;

/// <summary>Splits work over contiguous blocks of items on the thread pool when it is large enough to pay.</summary>
internal static class HostBlocks
{
    /// <summary>Runs <paramref name="body"/>(first, last) over [0, items) in contiguous blocks: one block when the work is small.</summary>
    /// <param name="items">Items (segments) in all.</param>
    /// <param name="elements">Elements in all (sets the number of workers, as <see cref="HostRmsNorm.MinElementsPerWorker"/>).</param>
    /// <param name="body">The work on [first, last).</param>
    public static void For(long items, long elements, Action<long, long> body)
    {
        int workers = (int)Math.Min(Math.Min(Environment.ProcessorCount, items), elements / HostRmsNorm.MinElementsPerWorker);
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
}
