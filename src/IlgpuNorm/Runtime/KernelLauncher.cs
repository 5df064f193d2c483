using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>A loaded kernel of one storage type and the plan-to-launch glue around it.</summary>
internal sealed class KernelLauncher<TS, TAcc>(
    Accelerator accelerator,
    DeviceLimits limits,
    Action<AcceleratorStream, KernelConfig, ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, RmsNormKernelParams> kernel)
    where TS : unmanaged
    where TAcc : unmanaged
{
    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>The launch plan for a segment length and count on this device.</summary>
    public unsafe LaunchPlan PlanFor(int segmentLength, long segments) =>
        LaunchPlan.Create(segmentLength, segments, limits, sizeof(TAcc));

    public void Launch(AcceleratorStream stream, RmsNormProblem problem, bool hasWeight, ArrayView<TS> input, ArrayView<TS> weight, ArrayView<TS> output)
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;

        // Launch whole rows at a time so segment indices fit in int and the weight slice stays (s % groups).
        long rowsPerLaunch = Math.Max(1, (int.MaxValue - 1024) / groups);
        for (long row = 0; row < problem.Rows; row += rowsPerLaunch)
        {
            long rows = Math.Min(rowsPerLaunch, problem.Rows - row);
            int segments = (int)(rows * groups);
            long start = row * problem.NormalizedLength;
            long length = rows * problem.NormalizedLength;
            var plan = PlanFor(n, segments);
            var config = new KernelConfig(
                new Index1D(plan.GridSize),
                new Index1D(plan.GroupSize),
                SharedMemoryConfig.RequestDynamic<TAcc>(plan.SharedElements));
            var parameters = new RmsNormKernelParams(n, segments, groups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon);
            kernel(stream, config, input.SubView(start, length), weight, output.SubView(start, length), parameters);
        }
    }
}
