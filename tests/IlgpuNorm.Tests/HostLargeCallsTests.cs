using IlgpuNorm.Host;
using IlgpuNorm.Tests.Backward;
using IlgpuNorm.Tests.Quantize;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// The host's quantize and backward paths on inputs large enough to run in parallel over row blocks and to take the
/// streaming path (larger than the last-level cache): against the float64 references, and equal bit for bit to the same
/// rows computed one call per row (the single-threaded path).
/// </summary>
public class HostLargeCallsTests
{
    private const int Hidden = 4096;

    [Theory]
    [InlineData(QuantizeFormat.Int8)]
    [InlineData(QuantizeFormat.Float8E4M3)]
    public void Quantize_ParallelAndStreaming_MatchesReference_AndRowByRow(QuantizeFormat format)
    {
        int rows = (int)(HostCache.LastLevelBytes / (Hidden * (sizeof(float) + 1))) + 5;
        Assert.True(HostCache.ShouldStream((long)rows * Hidden * (sizeof(float) + 1)));
        Assert.True((long)rows * Hidden >= 2 * HostParallel.MinElementsPerWorker); // more than one worker
        var x = TestData.Random<float>(rows * Hidden, 91);
        var w = TestData.Random<float>(Hidden, 92);
        var quantize = new QuantizeOptions { Format = format };
        var (codes, scales) = QuantCheck.AgainstReference("host", x, [rows, Hidden], [Hidden], w, quantize);

        foreach (int row in new[] { 0, 1, rows / 2, rows - 1 })
        {
            var (rowCodes, rowScales) = QuantCheck.Run("host", x.AsSpan(row * Hidden, Hidden).ToArray(), [1, Hidden], [Hidden], w, quantize);
            Assert.Equal(rowScales[0], scales[row]);
            Assert.Equal(rowCodes, codes.AsSpan(row * Hidden, Hidden).ToArray());
        }
    }

    [Fact]
    public async Task ParallelCalls_FromManyThreadPoolThreadsAtOnce_GiveTheSequentialBits()
    {
        // 16 calls at once on a 2-core pool: each splits its rows over the pool while the pool is busy with the others.
        const int Rows = 256;
        var x = TestData.Random<float>(Rows * Hidden, 96);
        var w = TestData.Random<float>(Hidden, 97);
        var quantize = new QuantizeOptions { Format = QuantizeFormat.Int8 };
        var (expected, expectedScales) = QuantCheck.Run("host", x, [Rows, Hidden], [Hidden], w, quantize);
        var dy = TestData.Random<float>(Rows * Hidden, 98);
        var (expectedDx, expectedDw) = BackwardCheck.Run("host", dy, x, [Rows, Hidden], [Hidden], w);

        var calls = Enumerable.Range(0, 16).Select(k => Task.Run(() =>
        {
            if (k % 2 == 0)
            {
                var (codes, scales) = QuantCheck.Run("host", x, [Rows, Hidden], [Hidden], w, quantize);
                Assert.Equal(expected, codes);
                Assert.Equal(expectedScales, scales);
            }
            else
            {
                var (dx, dw) = BackwardCheck.Run("host", dy, x, [Rows, Hidden], [Hidden], w);
                Assert.Equal(expectedDx, dx);
                Assert.Equal(expectedDw, dw);
            }
        }));
        var all = Task.WhenAll(calls);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(120)))); // a stall fails instead of hanging
        await all;
    }

    [Fact]
    public void Backward_ParallelAndStreaming_MatchesReference_AndRowByRow()
    {
        int rows = (int)(HostCache.LastLevelBytes / (Hidden * 3 * sizeof(float))) + 5;
        Assert.True(HostCache.ShouldStream((long)rows * Hidden * 3 * sizeof(float)));
        var x = TestData.Random<float>(rows * Hidden, 93);
        var dy = TestData.Random<float>(rows * Hidden, 94);
        var w = TestData.Random<float>(Hidden, 95);
        var (dx, _) = BackwardCheck.AgainstReference("host", dy, x, [rows, Hidden], [Hidden], w);

        foreach (int row in new[] { 0, rows / 3, rows - 1 })
        {
            var (rowDx, _) = BackwardCheck.Run("host", dy.AsSpan(row * Hidden, Hidden).ToArray(), x.AsSpan(row * Hidden, Hidden).ToArray(), [1, Hidden], [Hidden], w);
            Assert.Equal(rowDx, dx.AsSpan(row * Hidden, Hidden).ToArray());
        }
    }
}
