using IlgpuNorm.Host;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The host's block splitter: every item exactly once, whatever the split and however late the pool threads.</summary>
public class HostBlocksTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(7, 2)]
    [InlineData(8, 2)]
    [InlineData(9, 3)]
    [InlineData(100, 2)]
    [InlineData(1001, 3)]
    [InlineData(1001, 4)]
    [InlineData(13, 8)]
    [InlineData(4096, 2)] // sixteen blocks per participant
    [InlineData(4099, 3)]
    public void ForWorkers_RunsEveryItemExactlyOnce(int items, int workers)
    {
        for (int call = 0; call < 50; call++) // many calls: pool threads join early, late or not at all
        {
            var counts = new int[items];
            HostBlocks.ForWorkers(items, workers, new Counting(counts, -1));
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    [Fact]
    public void ForWorkers_FromManyThreadsAtOnce_RunsEveryItemExactlyOnce()
    {
        // Concurrent callers compete for the helper threads: the losers fall back to the thread pool, none waits for another.
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var callers = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            for (int call = 0; call < 200; call++)
            {
                int items = 17 + ((t * 7 + call) % 50);
                var counts = new int[items];
                HostBlocks.ForWorkers(items, 2 + (call % 2), new Counting(counts, -1));
                if (counts.Any(c => c != 1))
                {
                    failures.Add($"caller {t}, call {call}: [{string.Join(", ", counts)}]");
                }
            }
        })).ToList();
        callers.ForEach(c => c.Start());
        Assert.All(callers, c => Assert.True(c.Join(TimeSpan.FromMinutes(2)), "a caller did not finish"));
        Assert.Empty(failures);
    }

    [Fact]
    public void Helper_TakesAJob_RunsIt_AndIsFreeAgainAfterwards()
    {
        bool expected = Environment.ProcessorCount > 1; // one helper per extra core
        for (int job = 0; job < 3; job++)
        {
            using var done = new ManualResetEventSlim();
            var item = new Signal(done);
            bool posted = false;
            for (int attempt = 0; attempt < 1000 && !posted; attempt++)
            {
                posted = HostHelpers.TryPost(0, item); // another test's call may hold the helper for a moment
                if (!posted)
                {
                    Thread.Sleep(1);
                }
            }

            Assert.Equal(expected, posted);
            if (posted)
            {
                Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "the helper did not run the job");
            }

            Thread.Sleep(job * 5); // the next job finds it spinning, then asleep
        }

        Assert.False(HostHelpers.TryPost(Environment.ProcessorCount, new Signal(new ManualResetEventSlim()))); // no such helper
    }

    private sealed class Signal(ManualResetEventSlim done) : IThreadPoolWorkItem
    {
        public void Execute() => done.Set();
    }

    /// <summary>
    /// A helper still inside a job refuses a new one while that job is unfinished and takes it once the job says it is
    /// finished (its caller has returned); it then clears only the job it ran, so the new job runs, and the helper is free
    /// after it.
    /// </summary>
    [Fact]
    public void Helper_StillInAFinishedJob_TakesTheNextOne_AndRunsIt()
    {
        if (Environment.ProcessorCount < 2)
        {
            Assert.False(HostHelpers.TryPost(0, new Signal(new ManualResetEventSlim()))); // no helper on one core
            return;
        }

        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var held = new Holding(entered, release);
        Assert.True(PostWithin(held), "the helper never took the first job");
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)), "the helper did not start the first job");

        using var nextDone = new ManualResetEventSlim();
        var next = new Signal(nextDone);
        Assert.False(HostHelpers.TryPost(0, next)); // the helper is inside an unfinished job
        held.Finished = true;
        Assert.True(PostWithin(next), "a finished job was not replaced");
        release.Set();
        Assert.True(nextDone.Wait(TimeSpan.FromSeconds(30)), "the job posted over a finished one did not run");

        using var lastDone = new ManualResetEventSlim();
        Assert.True(PostWithin(new Signal(lastDone)), "the helper stayed busy");
        Assert.True(lastDone.Wait(TimeSpan.FromSeconds(30)), "the helper did not run the last job");

        static bool PostWithin(IThreadPoolWorkItem work)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                if (HostHelpers.TryPost(0, work))
                {
                    return true;
                }

                Thread.Sleep(1); // another test's call may hold the helper for a moment
            }

            return false;
        }
    }

    private sealed class Holding(ManualResetEventSlim entered, ManualResetEventSlim release) : IHelperJob
    {
        public bool Finished { get => Volatile.Read(ref finished); set => Volatile.Write(ref finished, value); }

        private bool finished;

        public void Execute()
        {
            entered.Set();
            release.Wait();
        }
    }

    [Fact]
    public void ForWorkers_CallerThatOutlastsItsSpin_BlocksUntilTheLastBlockHasRun()
    {
        // Blocks take 1 ms on the caller's thread and 5 ms on a helper's, far past the caller's 50 µs spin once it has
        // claimed the last block: the caller blocks, and must return only once the helper's block is done (every count
        // is read right after the call), never earlier.
        for (int call = 0; call < 10; call++)
        {
            var counts = new int[64];
            HostBlocks.ForWorkers(64, 2, new Slow(counts, Environment.CurrentManagedThreadId));
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    [Fact]
    public void ForWorkers_ThrowsTheBodysException_AndReturns()
    {
        for (int call = 0; call < 20; call++)
        {
            var counts = new int[64];
            var e = Assert.Throws<InvalidOperationException>(() => HostBlocks.ForWorkers(64, 2, new Counting(counts, 40)));
            Assert.Equal("item 40", e.Message);
            Assert.All(counts, c => Assert.InRange(c, 0, 1)); // none twice, even as the others stop claiming
        }
    }

    /// <summary>Counts its items after 1 ms on <paramref name="caller"/>'s thread (time for a helper to join) and 5 ms on any other.</summary>
    private readonly struct Slow(int[] counts, int caller) : IBlockBody
    {
        public void Run(long first, long last)
        {
            Thread.Sleep(Environment.CurrentManagedThreadId == caller ? 1 : 5);

            for (long i = first; i < last; i++)
            {
                Interlocked.Increment(ref counts[i]);
            }
        }
    }

    private readonly struct Counting(int[] counts, int failAt) : IBlockBody
    {
        public void Run(long first, long last)
        {
            for (long i = first; i < last; i++)
            {
                if (i == failAt)
                {
                    throw new InvalidOperationException($"item {i}");
                }

                Interlocked.Increment(ref counts[i]);
            }
        }
    }
}
