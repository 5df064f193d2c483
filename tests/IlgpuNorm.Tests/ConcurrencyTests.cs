using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The shared dispatcher and its backends under concurrent callers.</summary>
public class ConcurrencyTests
{
    [Fact]
    public void ConcurrentCalls_OnHostAndCpuAccelerator_AreAllCorrect()
    {
        const int Threads = 8;
        const int CallsPerThread = 24;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            for (int call = 0; call < CallsPerThread; call++)
            {
                string backend = (thread + call) % 3 == 0 ? "cpu" : "host";
                int hidden = 1 + ((thread * 31 + call * 17) % 300);
                int rows = 1 + (call % 4);
                var x = TestData.Random<float>(rows * hidden, thread * 1000 + call);
                var w = TestData.Random<float>(hidden, call);
                try
                {
                    Check.AgainstReference(backend, x, [rows, hidden], [hidden], w);
                }
#pragma warning disable CA1031 // collect every failure from every thread
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    errors.Enqueue($"thread {thread} call {call} ({backend}, [{rows},{hidden}]): {ex.Message}");
                }
            }
        });
        Assert.Empty(errors);
    }
}
