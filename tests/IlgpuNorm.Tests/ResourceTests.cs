using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Thousands of calls leave managed memory flat (generous bound: this is a leak check, not a benchmark).</summary>
public class ResourceTests
{
    [Theory]
    [InlineData("host", 5000)]
    [InlineData("cpu", 1000)]
    public void ThousandsOfCalls_DoNotGrowManagedMemory(string backend, int calls)
    {
        var x = TestData.Random<float>(4 * 64, 1);
        var w = TestData.Random<float>(64, 2);
        var y = new float[x.Length];
        var options = Backends.Options(backend);
        for (int i = 0; i < 50; i++)
        {
            RmsNorm.Compute<float>(x, [4, 64], [64], w, y, options);
        }

        long before = SettledMemory();
        for (int i = 0; i < calls; i++)
        {
            RmsNorm.Compute<float>(x, [4, 64], [64], w, y, options);
        }

        long after = SettledMemory();
        Assert.True(after - before < 8 << 20, $"managed memory grew by {(after - before) / 1024} KiB over {calls} calls");
        Check.AssertClose(x, [4, 64], [64], w, RmsNormOptions.DefaultEpsilon, 1, y, $"after {calls} calls");
    }

    private static long SettledMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
