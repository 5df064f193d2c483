using IlgpuNorm.Benchmarking;
using Xunit;

namespace IlgpuNorm.Tests.Benchmarking;

/// <summary>The pure parts of the measurement harness that ilgpunorm bench and the BenchmarkDotNet project share.</summary>
public class HarnessTests
{
    [Theory]
    [InlineData("1x4096", 1, 4096)]
    [InlineData(" 16 X 4096 ", 16, 4096)]
    [InlineData("3×5", 3, 5)]
    public void BenchShape_Parses(string text, int rows, int hidden)
    {
        Assert.True(BenchShape.TryParse(text, out var shape));
        Assert.Equal(new BenchShape(rows, hidden), shape);
    }

    [Theory]
    [InlineData(16L << 20, 32L << 20, 1)] // fits in half the L3: cache-hot
    [InlineData(128L << 20, 32L << 20, 4)] // 4 x 128 MiB = 512 MiB
    [InlineData(100L << 20, 32L << 20, 6)] // 6 x 100 > 512 > 5 x 100
    [InlineData(200L << 20, 256L << 20, 6)] // 4 x L3 = 1 GiB beats 512 MiB: 6 x 200 > 1024 > 5 x 200
    [InlineData(600L << 20, 32L << 20, 2)] // at least 2
    public void BufferSets_HoldMaxOf4xL3And512MiB_TheFewestThatDo(long bytesPerSet, long l3, int expected)
    {
        int sets = CachePolicy.BufferSets(bytesPerSet, l3);
        Assert.Equal(expected, sets);
        if (sets > 1)
        {
            long target = Math.Max(4 * l3, 512L << 20);
            Assert.True(sets * bytesPerSet >= target && (sets == 2 || (sets - 1) * bytesPerSet < target));
        }
    }

    [Theory]
    [InlineData("32768K\n", 32L << 20)]
    [InlineData("1M", 1L << 20)]
    [InlineData("512", 512L)]
    [InlineData("x", null)]
    public void CacheSize_Parses(string text, long? expected) => Assert.Equal(expected, IlgpuNorm.Host.HostCache.ParseSize(text));

    [Fact]
    public void Streaming_StartsPastHalfTheLastLevelCache()
    {
        long half = IlgpuNorm.Host.HostCache.LastLevelBytes / 2;
        Assert.False(IlgpuNorm.Host.HostCache.ShouldStream(half));
        Assert.True(IlgpuNorm.Host.HostCache.ShouldStream(half + 1));
        Assert.True(IlgpuNorm.Host.HostCache.ShouldStream(IlgpuNorm.Host.HostCache.LastLevelBytes)); // bfloat16 [1024, 8192] on 32 MiB
    }

    [Theory]
    [InlineData(128, 2)]
    [InlineData(1000, 2)]
    [InlineData(1001, 3)]
    [InlineData(5, 4)]
    [InlineData(4096 * 4096, 16)]
    public void HostParallelCopy_PartsCoverEveryElementOnce(int length, int parts)
    {
        int next = 0;
        for (int p = 0; p < parts; p++)
        {
            var (start, count) = HostBench.Part(length, parts, p);
            Assert.True(count == 0 || start == next, $"part {p} starts at {start}, expected {next}");
            next = start + count;
        }

        Assert.Equal(length, next);
    }

    [Fact]
    public void MeasureInterleaved_TimesTheCallsInTurn_RoundAfterRound()
    {
        // Each call warms up alone, then every round times one batch of each in order: the call running changes twice
        // in the warm-ups and three times a round. Timed one after the other, it would change twice in all.
        int last = -1, changes = 0;
        var calls = Enumerable.Range(0, 3).Select(k => (Action<int>)(_ =>
        {
            changes += last != k ? 1 : 0;
            last = k;
        })).ToArray();
        var results = Timing.MeasureInterleaved(calls, sets: 2, minTime: 0.002);
        Assert.Equal(3, results.Length);
        Assert.All(results, r => Assert.Equal(results[0].Samples, r.Samples));
        Assert.True(results[0].Samples >= Timing.MinSamples);
        Assert.Equal(1 + 2 + (3 * results[0].Samples), changes); // the first call counts as a change from none
    }

    [Fact]
    public void Median_OddAndEven() =>
        Assert.Equal((3.0, 2.5), (Timing.Median([5, 1, 3]), Timing.Median([4, 1, 3, 2])));

    [Fact]
    public void CheckFirstAndLastRows_AcceptsRmsNorm_AndNamesTheRowThatDiffers()
    {
        var shape = new BenchShape(3, 40);
        var random = new Random(BenchData.SeedOf(ElementType.Float32, shape));
        float[] x = new float[120];
        float[] w = new float[40];
        BenchData.FillWeight<float>(w, random);
        BenchData.FillInput<float>(x, random);
        float[] y = RmsNorm.Compute<float>(x, [3, 40], [40], w);
        BenchData.CheckFirstAndLastRows<float>(x, w, y, shape);

        y[^5] *= 1.01f;
        var ex = Assert.Throws<InvalidOperationException>(() => BenchData.CheckFirstAndLastRows<float>(x, w, y, shape));
        Assert.Contains("row 2, element 35", ex.Message, StringComparison.Ordinal);
    }
}
