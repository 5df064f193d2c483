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
