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
}
