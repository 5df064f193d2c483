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

    /// <summary>Whether the last launch could use the 16-byte variant (for tests of the variant choice).</summary>
    internal bool LastUsedVector { get; private set; }

    /// <summary>Compiles both variants now.</summary>
    public void Preload()
    {
        _ = Scalar;
        _ = Vector;
    }

    public void Launch(AcceleratorStream stream, RmsNormProblem problem, bool hasWeight, ArrayView<TS> input, ArrayView<TS> weight, ArrayView<TS> output) =>
        Launch(stream, problem, new KernelLaunch(hasWeight), input, input, weight, input, output);

    /// <summary>
    /// Launches with every option. Views that the options leave unused may be any view on this accelerator (pass the
    /// input). Strides are in elements (0: contiguous rows of the normalized length).
    /// </summary>
    public void Launch(AcceleratorStream stream, RmsNormProblem problem, KernelLaunch options, ArrayView<TS> input, ArrayView<TS> residual, ArrayView<TS> weight, ArrayView<TS> bias, ArrayView<TS> output)
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        long rowLength = problem.NormalizedLength;
        long inputStride = options.InputRowStride == 0 ? rowLength : options.InputRowStride;
        long outputStride = options.OutputRowStride == 0 ? rowLength : options.OutputRowStride;
        long residualStride = !options.HasResidual ? inputStride : options.ResidualRowStride == 0 ? rowLength : options.ResidualRowStride;
        if (!options.HasResidual)
        {
            residual = input; // never read; the same extent as the input keeps even a speculated load in bounds
        }

        var variant = ChooseVariant(n, options, [inputStride, outputStride, residualStride], input, residual, weight, bias, output);
        int width = variant.Width;
        LastUsedVector = width > 1;

        // Launch whole rows at a time so segment indices fit in int and the weight slice stays (s % groups).
        long rowsPerLaunch = Math.Max(1, (int.MaxValue - 1024) / groups);
        for (long row = 0; row < problem.Rows; row += rowsPerLaunch)
        {
            long rows = Math.Min(rowsPerLaunch, problem.Rows - row);
            int segments = (int)(rows * groups);
            var plan = PlanFor(n, segments, width);
            var config = new KernelConfig(new Index1D(plan.GridSize), new Index1D(plan.GroupSize));
            var parameters = new RmsNormKernelParams(n, segments, groups, plan.ThreadsPerRow, plan.RowsPerGroup, options.HasWeight ? 1 : 0, problem.Epsilon)
            {
                InputRowStride = checked((int)(inputStride / width)),
                OutputRowStride = checked((int)(outputStride / width)),
                ResidualRowStride = checked((int)(residualStride / width)),
                HasResidual = options.HasResidual ? 1 : 0,
                HasBias = options.HasBias ? 1 : 0,
                Policy = options.Policy,
                WeightOffset = options.WeightOffset,
                WarpShuffle = plan.WarpShuffle,
            };
            variant.Launch(
                stream,
                config,
                Rows(input, row, rows, inputStride, rowLength),
                Rows(residual, row, rows, residualStride, rowLength),
                weight,
                bias,
                Rows(output, row, rows, outputStride, rowLength),
                parameters);
        }
    }

    /// <summary>The view of rows [first, first + count) of a strided layout: from the first row's start to the last row's end.</summary>
    private static ArrayView<TS> Rows(ArrayView<TS> view, long first, long count, long stride, long rowLength) =>
        view.SubView(first * stride, (count - 1) * stride + rowLength);

    /// <summary>The launch plan for a segment length and count on this device.</summary>
    public LaunchPlan PlanFor(int segmentLength, long segments, int vectorWidth) =>
        LaunchPlan.Create(segmentLength, segments, limits, vectorWidth);

    /// <summary>The vector variant when every stride is a whole number of packets and every view it would read or write is aligned to a whole packet.</summary>
    private unsafe KernelVariant<TS> ChooseVariant(int n, KernelLaunch options, ReadOnlySpan<long> strides, ArrayView<TS> input, ArrayView<TS> residual, ArrayView<TS> weight, ArrayView<TS> bias, ArrayView<TS> output)
    {
        int width = LaunchPlan.VectorWidth(n, sizeof(TS));
        if (width == 1)
        {
            return Scalar;
        }

        foreach (long stride in strides)
        {
            if (stride % width != 0)
            {
                return Scalar;
            }
        }

        int packetBytes = width * sizeof(TS);
        bool aligned = AlignmentOf(input) % packetBytes == 0 &&
            AlignmentOf(output) % packetBytes == 0 &&
            (!options.HasResidual || AlignmentOf(residual) % packetBytes == 0) &&
            (!options.HasWeight || AlignmentOf(weight) % packetBytes == 0) &&
            (!options.HasBias || AlignmentOf(bias) % packetBytes == 0);
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
