using System.Runtime.Intrinsics;
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
    /// <summary>
    /// The float32 row reduction's order, written out lane by lane in float64 (every square of a float32 is exact in
    /// float64, so each step rounds once, as a fused multiply-add does): Vector512, steps of 32 into four accumulators of
    /// 8 lanes (elements i..i+7, +8, +16, +24), a last step of 16 into the first two, then Sum((a0 + a2) + (a1 + a3));
    /// Vector256, steps of 8 into two of 4 lanes, then Sum(a0 + a1); then the scalar tail in element order, and one
    /// rounding to float32. Random rows (squares from 2^-80 to 2^80) and rows built so that the order shows in the float32
    /// bits: 2^24 + 1 (a float32 midpoint) and three squares of 2^-30 among zeros, which a float64 lane holding 2^24 loses
    /// one by one and keeps once they have met. The sums must match exactly,
    /// so a change of order (a lane sent to another accumulator) fails here and not only in a hash.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(48)]
    [InlineData(63)]
    [InlineData(100)]
    [InlineData(4096)]
    [InlineData(4099)]
    public void SumOfSquares_FollowsItsLaneOrder_BitForBit(int n)
    {
        var random = new Random(n * 7 + 3);
        int differences = 0;
        for (int row = 0; row < 128; row++)
        {
            var x = new float[n];
            if (row % 2 == 0)
            {
                for (int i = 0; i < n; i++)
                {
                    x[i] = (float)((random.Next(2) * 2 - 1) * (1 + random.NextDouble()) * Math.ScaleB(1, random.Next(-40, 41)));
                }
            }
            else
            {
                // Zeros, 2^24 + 1 (a float32 midpoint) and three squares of 2^-30: a float64 lane holding 2^24 (half an ulp:
                // 2^-29) loses each alone, and keeps them once two or three have met first. So the float32 result is
                // 2^24 or 2^24 + 2 according to which elements share a lane and how the lanes are added.
                // Anywhere, or (every other such row) all five at one lane position (element mod 8) of the first 16 steps
                // of 8, so that they meet in the lane-wise adds of the Vector512 accumulators as well as in the final sum.
                int lane = row % 4 == 1 ? random.Next(Math.Min(n, 8)) : -1;
                int Position() => lane < 0 ? random.Next(n) : Math.Min(n - 1, (8 * random.Next(Math.Max(1, Math.Min(n / 8, 16)))) + lane);
                x[Position()] = 4096;
                x[Position()] = -1;
                for (int k = 0; k < 3; k++)
                {
                    x[Position()] = (random.Next(2) * 2 - 1) * MathF.ScaleB(1, -15);
                }
            }

            float expected = OrderedSumOfSquares(x);
            float actual = HostRows.SumOfSquares(x);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual), $"row {row}: expected {expected:R}, got {actual:R}");
            float sequential = (float)x.Sum(v => (double)v * v);
            differences += sequential == expected ? 0 : 1;
        }

        if (n >= 100)
        {
            Assert.True(differences > 0, "no row where the order changes the bits: the data does not test the order");
        }
    }

    private static float OrderedSumOfSquares(float[] x)
    {
        int n = x.Length, i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var a = new double[4][];
            for (int k = 0; k < 4; k++)
            {
                a[k] = new double[8];
            }

            for (; i <= n - 32; i += 32)
            {
                Accumulate(a, x, i, 4, 8);
            }

            if (i <= n - 16)
            {
                Accumulate(a, x, i, 2, 8);
                i += 16;
            }

            var (a0, a1, a2, a3) = (Vector512.Create(a[0]), Vector512.Create(a[1]), Vector512.Create(a[2]), Vector512.Create(a[3]));
            sum = Vector512.Sum((a0 + a2) + (a1 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a = new[] { new double[4], new double[4] };
            for (; i <= n - 8; i += 8)
            {
                Accumulate(a, x, i, 2, 4);
            }

            sum = Vector256.Sum(Vector256.Create(a[0]) + Vector256.Create(a[1]));
        }

        for (; i < n; i++)
        {
            sum += (double)x[i] * x[i];
        }

        return (float)sum;

        static void Accumulate(double[][] a, float[] x, int i, int accumulators, int lanes)
        {
            for (int k = 0; k < accumulators; k++)
            {
                for (int lane = 0; lane < lanes; lane++)
                {
                    double v = x[i + (k * lanes) + lane];
                    a[k][lane] += v * v;
                }
            }
        }
    }
}
