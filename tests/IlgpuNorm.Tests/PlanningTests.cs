using IlgpuNorm.Planning;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The pure launch plan, tested without a device.</summary>
public class PlanningTests
{
    private static readonly DeviceLimits H100 = new(1024, 32, 132, 2048, IsSimulator: false);
    private static readonly DeviceLimits Simulator = new(32, 4, 2, 32, IsSimulator: true);
    private static readonly DeviceLimits SmallGroups = new(256, 64, 8, 2048, IsSimulator: false);

    public static TheoryData<int> SegmentLengths() => new() { 1, 2, 31, 32, 33, 127, 1000, 4096, 5120, 8193, 65536, 262144 };

    [Theory]
    [MemberData(nameof(SegmentLengths))]
    public void Plan_IsValid_ForEveryLengthAndDevice(int n)
    {
        foreach (var limits in new[] { H100, Simulator, SmallGroups })
        {
            foreach (long segments in new long[] { 1, 3, 257, 1_000_000 })
            {
                var plan = LaunchPlan.Create(n, segments, limits);
                Assert.True(plan.ThreadsPerRow >= 1 && (plan.ThreadsPerRow & (plan.ThreadsPerRow - 1)) == 0, "threads per row is a power of two");
                Assert.True(plan.GroupSize <= limits.MaxGroupSize, "group fits the device");
                Assert.True(plan.GroupSize <= Kernels.RmsNormKernel.MaxGroupSize, "one shared partial per thread fits the kernel's array");
                Assert.InRange(plan.GridSize, 1, (int)Math.Max(1, segments));
                Assert.True(plan.ThreadsPerRow <= Math.Max(1, LaunchPlan.CeilPowerOfTwo(n)), "no more threads per row than elements, rounded up");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SegmentLengths))]
    public void ThreadsPerRow_DependsOnlyOnLengthAndDevice_NotOnBatchSize(int n)
    {
        foreach (var limits in new[] { H100, Simulator })
        {
            int reference = LaunchPlan.Create(n, 1, limits).ThreadsPerRow;
            foreach (long segments in new long[] { 2, 257, 32768, 1L << 31 })
            {
                Assert.Equal(reference, LaunchPlan.Create(n, segments, limits).ThreadsPerRow);
            }
        }
    }

    [Fact]
    public void ShortRows_ShareAGroup_OnGpus()
    {
        var plan = LaunchPlan.Create(32, 1000, H100);
        Assert.Equal(4, plan.ThreadsPerRow);
        Assert.Equal(LaunchPlan.GpuTargetGroupSize / 4, plan.RowsPerGroup);
    }

    [Fact]
    public void LongRows_UseWholeGroups_UpToTheDeviceLimit()
    {
        Assert.Equal(512, LaunchPlan.Create(4096, 10, H100).ThreadsPerRow);
        Assert.Equal(1024, LaunchPlan.Create(262144, 10, H100).ThreadsPerRow);
        Assert.Equal(1, LaunchPlan.Create(262144, 10, H100).RowsPerGroup);
        Assert.Equal(32, LaunchPlan.Create(262144, 10, Simulator).ThreadsPerRow);
    }

    [Fact]
    public void CpuLikeDevices_SpreadSmallBatchesOverEveryCore()
    {
        var pocl = new DeviceLimits(4096, 8, 2, 4096, IsSimulator: true);
        var plan = LaunchPlan.Create(4096, 16, pocl, vectorWidth: 4);
        Assert.Equal(2, plan.GridSize);                  // both cores, not one group of 16 rows
        Assert.Equal(8, plan.RowsPerGroup);
        Assert.Equal(1, LaunchPlan.Create(4096, 1, pocl, vectorWidth: 4).RowsPerGroup);
        Assert.Equal(2, LaunchPlan.Create(4096, 100_000, pocl, vectorWidth: 4).GridSize);
    }

    [Fact]
    public void Grid_IsCappedByResidency_AndStrides()
    {
        var plan = LaunchPlan.Create(4096, 1_000_000, H100);
        Assert.Equal(132 * (2048 / 512) * LaunchPlan.GpuWavesPerMultiprocessor, plan.GridSize);
        Assert.Equal(2, LaunchPlan.Create(4096, 1_000_000, Simulator).GridSize);
    }

    [Theory]
    [InlineData(4096, 4, 4)]
    [InlineData(4098, 4, 1)]
    [InlineData(4096, 2, 8)]
    [InlineData(4100, 2, 1)]
    [InlineData(33, 2, 1)]
    [InlineData(4096, 8, 2)]
    [InlineData(1, 4, 1)]
    public void VectorWidth_Is16Bytes_WhenTheLengthAllows(int n, int elementBytes, int width) =>
        Assert.Equal(width, LaunchPlan.VectorWidth(n, elementBytes));

    [Fact]
    public void VectorPlans_CountPacketsPerThread()
    {
        // 4096 float32 in packets of 4: 1024 packets, 2 packets (8 elements) per thread.
        Assert.Equal(512, LaunchPlan.Create(4096, 10, H100, vectorWidth: 4).ThreadsPerRow);
        Assert.Equal(1024, LaunchPlan.Create(8192, 10, H100, vectorWidth: 8).ThreadsPerRow);
        Assert.Equal(1, LaunchPlan.Create(8, 10, H100, vectorWidth: 8).ThreadsPerRow);
    }

    [Fact]
    public void DeviceGroupLimit_CapsTheGroup() =>
        Assert.Equal(256, LaunchPlan.Create(1_000_000, 4, SmallGroups).GroupSize);

    [Fact]
    public void Problem_FlattensGroupsIntoSegments()
    {
        var problem = RmsNormProblem.Create([3, 5, 512], [512], 4, 1e-6);
        Assert.Equal(15, problem.Rows);
        Assert.Equal(60, problem.Segments);
        Assert.Equal(128, problem.SegmentLength);
        Assert.Equal(15 * 512, problem.TotalElements);
    }

    [Fact]
    public void Plan_WarpShuffle_OnlyWhereTheDeviceHasItAndWarpsAreFull()
    {
        var cuda = H100 with { HasWarpShuffle = true };
        Assert.Equal(32, LaunchPlan.Create(4096, 10, cuda).WarpShuffle);
        Assert.Equal(32, LaunchPlan.Create(8, 1000, cuda).WarpShuffle);
        Assert.Equal(0, LaunchPlan.Create(4096, 10, H100).WarpShuffle);
        Assert.Equal(0, LaunchPlan.Create(4096, 10, Simulator).WarpShuffle);

        // A group smaller than the warp would leave a warp partly empty: no shuffles then.
        var tiny = new DeviceLimits(16, 32, 4, 2048, IsSimulator: false) { HasWarpShuffle = true };
        Assert.Equal(0, LaunchPlan.Create(4096, 10, tiny).WarpShuffle);

        // The shuffles change the barriers, never the pairing: the plan's other fields are the same either way.
        foreach (int n in new[] { 1, 33, 4096, 262144 })
        {
            var with = LaunchPlan.Create(n, 77, cuda, 4);
            var without = LaunchPlan.Create(n, 77, H100, 4);
            Assert.Equal((without.ThreadsPerRow, without.RowsPerGroup, without.GridSize), (with.ThreadsPerRow, with.RowsPerGroup, with.GridSize));
        }
    }
}
