using IlgpuNorm.Host;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The float32 host rows two at a time (next row's sum beside this row's normalize): the bits of the two separate passes.</summary>
public class HostRowPipelineTests
{
    public static TheoryData<int, int, int, bool> Shapes() => new()
    {
        { 1, 1, 1, true }, { 3, 7, 1, false }, { 4, 8, 2, true }, { 5, 15, 1, true }, { 2, 16, 1, false }, { 6, 17, 3, true },
        { 3, 31, 1, true }, { 4, 32, 2, false }, { 5, 33, 1, true }, { 3, 47, 1, true }, { 9, 100, 3, true }, { 4, 4096, 1, true },
        { 3, 4099, 1, false }, { 2, 8193, 2, true }, { 4, 64, 1, false }, { 5, 64, 2, true }, { 7, 4099, 3, true }, { 6, 8193, 1, false },
        { 8, 1000, 4, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PipelinedRows_EqualSeparatePasses_BitForBit(int rows, int n, int groups, bool weighted)
    {
        var x = TestData.Random<float>(rows * n, rows * 131 + n);
        x[Math.Min(x.Length - 1, n / 2)] = 1e30f; // one large value: the sum's rounding matters
        var w = weighted ? TestData.Random<float>(groups * n, n + 5) : [];
        var expected = TestData.Poisoned<float>(rows * n);
        for (int s = 0; s < rows; s++)
        {
            var xs = x.AsSpan(s * n, n);
            float d = MathF.Sqrt(HostRows.SumOfSquares(xs) / n + 1e-6f);
            HostRowsHelper.Normalize<float, float, Float32Storage>(xs, d, weighted ? w.AsSpan(s % groups * n, n) : default, expected.AsSpan(s * n, n));
        }

        var actual = TestData.Poisoned<float>(rows * n);
        HostRowsHelper.Pipeline(x, w, actual, n, groups, 0, rows, 1e-6f);
        Assert.Equal(expected, actual);

        // In place, and a block that starts inside the tensor (as the parallel loop runs it).
        var inPlace = (float[])x.Clone();
        HostRowsHelper.Pipeline(inPlace, w, inPlace, n, groups, 0, rows, 1e-6f);
        Assert.Equal(expected, inPlace);
        var partial = TestData.Poisoned<float>(rows * n);
        HostRowsHelper.Pipeline(x, w, partial, n, groups, rows / 2, rows, 1e-6f);
        Assert.Equal(expected.AsSpan(rows / 2 * n).ToArray(), partial.AsSpan(rows / 2 * n).ToArray());
        Assert.Equal(TestData.Poisoned<float>(rows / 2 * n), partial.AsSpan(0, rows / 2 * n).ToArray());
    }

    [Fact]
    public void ParallelThreshold_IsCalibratedWithinItsBounds()
    {
        Assert.InRange(HostParallel.MinElementsPerWorker, 1L << 14, 1L << 20);
        Assert.Equal(1, HostParallel.Workers(1000, 10));
        Assert.Equal(1, HostParallel.Workers(1L << 30, 1));
    }

    [Fact]
    public void ParallelThreshold_SettlesAtOrBelowTheFirstCalibration()
    {
        long first = HostParallel.MinElementsPerWorker;
        for (int i = 0; i < 300; i++)
        {
            Assert.InRange(HostParallel.MinElementsPerWorker, 1L << 14, first);
        }

        long settled = HostParallel.MinElementsPerWorker;
        Assert.Equal(settled, HostParallel.MinElementsPerWorker); // calibrated twice at most: stable from then on
    }

    [Theory]
    [InlineData(100.0, 80.0, 65536L, 29491L)] // split 1.25x faster, estimate 1.5 * 30 / (100 / 65536) = 29.5 K: under elements / 2, kept
    [InlineData(100.0, 70.0, 65536L, 19660L)] // the same with a cheaper split
    [InlineData(100.0, 88.0, 65536L, 32768L)] // estimate 37.4 K, but the split was 12% faster: capped at 32 K
    [InlineData(100.0, 95.0, 65536L, 44236L)] // split only 5% faster: the estimate stands
    [InlineData(100.0, 130.0, 65536L, 78643L)] // split slower
    [InlineData(100.0, 40.0, 65536L, 16384L)] // no cost at all: the floor
    [InlineData(100.0, 2000.0, 65536L, 1048576L)] // the ceiling
    public void ParallelThreshold_FromMeasuredTimes(double single, double split, long elements, long expected) =>
        Assert.Equal(expected, HostParallel.Threshold(single, split, elements));
}
