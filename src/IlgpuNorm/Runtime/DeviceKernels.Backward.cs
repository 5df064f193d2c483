using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>The backward kernels of one dtype: the per-row pass and the dweight column sum, over partial rows kept as bytes.</summary>
internal abstract class BackwardKernels
{
    /// <summary>Bytes of the math type the partial rows are kept in.</summary>
    public abstract int MathBytes { get; }

    public abstract void Rows<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> dy, ArrayView<T> x, ArrayView<T> weight, ArrayView<float> rstd, ArrayView<T> dx, ArrayView<byte> partials, BackwardKernelParams p)
        where T : unmanaged;

    public abstract void Columns<T>(AcceleratorStream stream, int columns, ArrayView<byte> partials, ArrayView<T> dweight, int rows, int length)
        where T : unmanaged;
}

/// <summary>The backward kernels compiled for a codec; compiled once, when constructed.</summary>
internal sealed class BackwardKernels<TS, TF, TCodec>(Accelerator accelerator) : BackwardKernels
    where TS : unmanaged
    where TF : unmanaged
    where TCodec : struct, IBackwardCodec<TS, TF>
{
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<float>, ArrayView<TS>, ArrayView<TF>, BackwardKernelParams> rows =
        accelerator.LoadKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<float>, ArrayView<TS>, ArrayView<TF>, BackwardKernelParams>(RmsNormBackwardKernel.Rows<TS, TF, TCodec>);

    private readonly Action<AcceleratorStream, Index1D, ArrayView<TF>, ArrayView<TS>, int, int> columns =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<TF>, ArrayView<TS>, int, int>(RmsNormBackwardKernel.Columns<TS, TF, TCodec>);

    public override unsafe int MathBytes => sizeof(TF);

    public override void Rows<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> dy, ArrayView<T> x, ArrayView<T> weight, ArrayView<float> rstd, ArrayView<T> dx, ArrayView<byte> partials, BackwardKernelParams p) =>
        rows(stream, config, dy.Cast<TS>(), x.Cast<TS>(), weight.Cast<TS>(), rstd, dx.Cast<TS>(), partials.Cast<TF>(), p);

    public override void Columns<T>(AcceleratorStream stream, int count, ArrayView<byte> partials, ArrayView<T> dweight, int partialRows, int length) =>
        columns(stream, count, partials.Cast<TF>(), dweight.Cast<TS>(), partialRows, length);
}

/// <content>The backward launch and the per-segment 1/rms (the backward kernel with only its statistics).</content>
internal sealed partial class DeviceKernels
{
    /// <summary>
    /// Launches a checked backward pass (inside <see cref="Enter"/>): an empty weight means w = 1 and no dweight, an empty
    /// rstd means recompute it. With <paramref name="rstdOnly"/>, only rstd is written (from x).
    /// </summary>
    public void Backward<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, ArrayView<T> dy, ArrayView<T> x, ArrayView<T> w, ArrayView<float> rstd, ArrayView<T> dx, ArrayView<T> dw, bool rstdOnly = false)
        where T : unmanaged
    {
        bool hasWeight = w.Length != 0;
        if (problem.TotalElements == 0 && !hasWeight)
        {
            return;
        }

        var kernels = Kernel<BackwardKernels>(KernelOperation.Backward, type, 0);
        int n = problem.SegmentLength;
        int length = problem.NormalizedLength;
        bool hasRstd = rstd.Length != 0 && !rstdOnly;

        // One plan for the whole call (the partial rows are indexed by slot), capped at MaxGrid groups.
        long maxSegments = Math.Min(problem.Segments, RowChunks.RowsPerLaunch(problem.NumGroups) * problem.NumGroups);
        var plan = LaunchPlan.Create(n, Math.Max(1, maxSegments), Limits);
        int grid = Math.Min(plan.GridSize, RmsNormBackwardKernels.MaxGrid);
        int partialRows = hasWeight ? grid * plan.RowsPerGroup : 0;
        var partials = Scratch(Math.Max(1L, (long)partialRows * length) * kernels.MathBytes);
        if (hasWeight)
        {
            partials.SubView(0, (long)partialRows * length * kernels.MathBytes).MemSetToZero(stream);
        }

        foreach (var chunk in new RowChunks(problem))
        {
            var parameters = new BackwardKernelParams(n, chunk.Segments, problem.NumGroups, length, plan.ThreadsPerRow, plan.RowsPerGroup,
                hasWeight ? 1 : 0, hasRstd ? 1 : 0, rstdOnly ? 1 : 0, problem.Epsilon) { WarpShuffle = plan.WarpShuffle };
            var segmentRstd = rstd.Length != 0 ? rstd.SubView(chunk.FirstRow * problem.NumGroups, chunk.Segments) : StandIn;
            kernels.Rows(stream, Config(grid, plan), chunk.Of(dy, length, length), chunk.Of(x, length, length), hasWeight ? w : x, segmentRstd,
                chunk.Of(dx, length, length), partials, parameters);
        }

        if (hasWeight)
        {
            kernels.Columns(stream, length, partials, dw, partialRows, length);
        }
    }

    private object LoadBackward(ElementType type) => type switch
    {
        ElementType.Float32 => new BackwardKernels<float, float, SingleBackwardCodec<float, Float32Format>>(Accelerator),
        ElementType.Float16 => new BackwardKernels<ushort, float, SingleBackwardCodec<ushort, Float16Format>>(Accelerator),
        ElementType.BFloat16 => new BackwardKernels<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>(Accelerator),
        _ => new BackwardKernels<double, double, Float64BackwardCodec>(Accelerator),
    };

    /// <summary>The dweight scratch: kept and grown, shared by the calls of this instance.</summary>
    private ArrayView<byte> Scratch(long bytes)
    {
        if (scratch is null || scratch.Length < bytes)
        {
            scratch?.Dispose();
            scratch = null;
            scratch = Accelerator.Allocate1D<byte>(bytes);
        }

        return scratch.View.BaseView;
    }
}
