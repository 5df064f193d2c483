using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace IlgpuNorm.Host;

/// <summary>
/// One helper thread per extra core for <see cref="HostBlocks"/>' parallel calls, which spin for a while after each job
/// before they block, as ONNX Runtime's intra-op threads do: back-to-back calls then hand their second half to a thread
/// that is already running (a write and a read of one cache line) instead of waking a pool thread, which on a VM costs
/// about what splitting a 256 KiB call saves. Background threads, created on the first parallel call and never more than
/// ProcessorCount − 1; a helper busy with one call's job refuses another's (its caller falls back to the thread pool),
/// so concurrent callers never wait for each other.
/// </summary>
internal static class HostHelpers
{
    /// <summary>How long a helper spins for the next job before it blocks: 50 µs.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000;

    private static readonly Lazy<Helper[]> Helpers = new(() =>
        Enumerable.Range(0, Math.Max(0, Environment.ProcessorCount - 1)).Select(i => new Helper(i)).ToArray());

    /// <summary>Hands <paramref name="work"/> to helper <paramref name="index"/> if it is free; false if it is not (or there is none).</summary>
    public static bool TryPost(int index, IThreadPoolWorkItem work)
    {
        var helpers = Helpers.Value;
        return index < helpers.Length && helpers[index].TryPost(work);
    }

    [SuppressMessage("Design", "CA1001", Justification = "A helper and its semaphore live as long as the process.")]
    private sealed class Helper
    {
        private readonly SemaphoreSlim wake = new(0);
        private IThreadPoolWorkItem? job; // posted and not finished: the helper is busy
        private int sleeping; // 1 from just before the helper blocks until a poster claims the wake-up

        public Helper(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"IlgpuNorm host helper {index}" };
            thread.Start();
        }

        public bool TryPost(IThreadPoolWorkItem work)
        {
            // A finished job (its caller has returned; a helper that starts it finds nothing to do) still held by a
            // helper that came late to it is replaced: the helper clears only the job it ran, and takes the new one
            // next. Refused, the next call waited for the thread pool and often ran alone: [16, 4096] back to back,
            // 5-40% of the calls in a process.
            var current = Volatile.Read(ref job);
            if ((current is not null && current is not IHelperJob { Finished: true }) || Interlocked.CompareExchange(ref job, work, current) != current)
            {
                return false;
            }

            // The CAS is a full fence and the helper's store of 'sleeping' is one too (Interlocked), so at least one of
            // the two sees the other: the helper sees the job, or the poster sees it asleep and wakes it.
            if (Volatile.Read(ref sleeping) == 1 && Interlocked.Exchange(ref sleeping, 0) == 1)
            {
                wake.Release();
            }

            return true;
        }

        private void Loop()
        {
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + SpinTicks;
                IThreadPoolWorkItem? work;
                while ((work = Volatile.Read(ref job)) is null && Stopwatch.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(16);
                }

                if (work is null)
                {
                    Interlocked.Exchange(ref sleeping, 1);
                    if (Volatile.Read(ref job) is null || Interlocked.Exchange(ref sleeping, 0) == 0)
                    {
                        wake.Wait(); // woken by a poster (or consuming the wake-up a poster already claimed)
                    }

                    continue;
                }

                work.Execute(); // ParallelRun.Execute catches the body's exceptions for its caller
                Interlocked.CompareExchange(ref job, null, work); // unless a poster replaced it (finished) meanwhile
            }
        }
    }
}

/// <summary>A helper's job that says when it is finished: its caller has returned, and a participant that starts it finds
/// nothing left to do, so a poster may replace it (<see cref="HostHelpers.TryPost"/>).</summary>
internal interface IHelperJob : IThreadPoolWorkItem
{
    bool Finished { get; }
}
