using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// The kernels of one storage type on one accelerator (a scalar and a 16-byte vector variant, each compiled on
/// first use) and the plan-to-launch glue around them.
/// </summary>
internal sealed class KernelLauncher<TS, TAcc>(
    Accelerator accelerator,
    DeviceLimits limits,
    Func<Accelerator, KernelVariant<TS>> createScalar,
    Func<Accelerator, KernelVariant<TS>> createVector)
    where TS : unmanaged
    where TAcc : unmanaged
{
    private KernelVariant<TS>? scalar;
    private KernelVariant<TS>? vector;

    private KernelVariant<TS> Scalar => scalar ??= createScalar(accelerator);

    private KernelVariant<TS> Vector => vector ??= createVector(accelerator);

    /// <summary>Compiles both variants now.</summary>
    public void Preload()
    {
        _ = Scalar;
        _ = Vector;
    }

    public void Launch(AcceleratorStream stream, RmsNormProblem problem, bool hasWeight, ArrayView<TS> input, ArrayView<TS> weight, ArrayView<TS> output)
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        var variant = ChooseVariant(n, hasWeight, input, weight, output);

        // Launch whole rows at a time so segment indices fit in int and the weight slice stays (s % groups).
        long rowsPerLaunch = Math.Max(1, (int.MaxValue - 1024) / groups);
        for (long row = 0; row < problem.Rows; row += rowsPerLaunch)
        {
            long rows = Math.Min(rowsPerLaunch, problem.Rows - row);
            int segments = (int)(rows * groups);
            long start = row * problem.NormalizedLength;
            long length = rows * problem.NormalizedLength;
            var plan = PlanFor(n, segments, variant.Width);
            var config = new KernelConfig(new Index1D(plan.GridSize), new Index1D(plan.GroupSize));
            var parameters = new RmsNormKernelParams(n, segments, groups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon);
            variant.Launch(stream, config, input.SubView(start, length), weight, output.SubView(start, length), parameters);
        }
    }

    /// <summary>The launch plan for a segment length and count on this device.</summary>
    public LaunchPlan PlanFor(int segmentLength, long segments, int vectorWidth) =>
        LaunchPlan.Create(segmentLength, segments, limits, vectorWidth);

    /// <summary>The vector variant when every view it would read or write is aligned to a whole packet.</summary>
    private unsafe KernelVariant<TS> ChooseVariant(int n, bool hasWeight, ArrayView<TS> input, ArrayView<TS> weight, ArrayView<TS> output)
    {
        int width = LaunchPlan.VectorWidth(n, sizeof(TS));
        if (width == 1)
        {
            return Scalar;
        }

        int packetBytes = width * sizeof(TS);
        bool aligned = AlignmentOf(input) % packetBytes == 0 &&
            AlignmentOf(output) % packetBytes == 0 &&
            (!hasWeight || AlignmentOf(weight) % packetBytes == 0);
        return aligned && Vector.Width == width ? Vector : Scalar;
    }

    /// <summary>
    /// The largest power of two (up to 256) that divides the view's start address. The CPU accelerator has no
    /// alignment rule for struct loads; OpenCL buffers start aligned, so only the offset counts there.
    /// </summary>
    private unsafe long AlignmentOf(ArrayView<TS> view)
    {
        if (accelerator is CPUAccelerator)
        {
            return 256;
        }

        long offset = ((IContiguousArrayView)view).IndexInBytes;
        var buffer = ((IArrayView)view).Buffer;
        long address = accelerator is CLAccelerator || buffer is null ? offset : buffer.NativePtr.ToInt64() + offset;
        return address == 0 ? 256 : Math.Min(256, address & -address);
    }
}
