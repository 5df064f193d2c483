using IlgpuNorm.Host;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The host's one-pass add and sum of squares must give the bits of the add followed by the plain sum (fused = unfused).</summary>
public class HostFusedVectorsTests
{
    [Fact]
    public void AddAndSumOfSquares_EqualsAddThenSumOfSquares_AtEveryLength()
    {
        int[] lengths = [.. Enumerable.Range(0, 70), 127, 1000, 4096, 8193];
        foreach (int n in lengths)
        {
            var x = TestData.Random<float>(n, n + 1, scale: 100);
            var r = TestData.Random<float>(n, n + 2, scale: 0.01);
            if (n > 5)
            {
                x[n / 2] = 3e18f; // an outlier: order matters for the float64 lanes' rounding
            }

            var expected = (float[])r.Clone();
            System.Numerics.Tensors.TensorPrimitives.Add(x, expected, expected);
            float expectedSum = HostRows.SumOfSquares(expected);
            float sum = HostRowsHelper.AddAndSumOfSquares(x, r);
            Assert.Equal(expected, r);
            Assert.True(BitConverter.SingleToInt32Bits(expectedSum) == BitConverter.SingleToInt32Bits(sum), $"length {n}: {sum:R} vs {expectedSum:R}");
        }
    }
}
