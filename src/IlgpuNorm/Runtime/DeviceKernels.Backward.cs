using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>The compiled backward kernels of one dtype on byte views: the per-row pass (dx, partial dweight rows in the math type) and the column sum.</summary>
internal sealed record BackwardKernels(
    int MathBytes,
    Action<AcceleratorStream, KernelConfig, ArrayView<byte>, ArrayView<byte>, ArrayView<byte>, ArrayView<float>, ArrayView<byte>, ArrayView<byte>, BackwardKernelParams> Rows,
    Action<AcceleratorStream, Index1D, ArrayView<byte>, ArrayView<byte>, int, int> Columns);

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
            kernels.Rows(stream, new KernelConfig(grid, plan.GroupSize), chunk.Of(dy, length, length), chunk.Of(x, length, length), (hasWeight ? w : x).Cast<byte>(), segmentRstd,
                chunk.Of(dx, length, length), partials, parameters);
        }

        if (hasWeight)
        {
            kernels.Columns(stream, length, partials, dw.Cast<byte>(), partialRows, length);
        }
    }

    private BackwardKernels LoadBackward(ElementType type) => type switch
    {
        ElementType.Float32 => LoadBackward<float, float, SingleBackwardCodec<float, Float32Format>>(),
        ElementType.Float16 => LoadBackward<ushort, float, SingleBackwardCodec<ushort, Float16Format>>(),
        ElementType.BFloat16 => LoadBackward<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>(),
        _ => LoadBackward<double, double, Float64BackwardCodec>(),
    };

    private unsafe BackwardKernels LoadBackward<TS, TF, TCodec>()
        where TS : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<TS, TF>
    {
        var rows = Accelerator.LoadKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<TS>, ArrayView<float>, ArrayView<TS>, ArrayView<TF>, BackwardKernelParams>(RmsNormBackwardKernel.Rows<TS, TF, TCodec>);
        var columns = Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<TF>, ArrayView<TS>, int, int>(RmsNormBackwardKernel.Columns<TS, TF, TCodec>);
        return new(
            sizeof(TF),
            (stream, config, dy, x, w, rstd, dx, partials, p) => rows(stream, config, dy.Cast<TS>(), x.Cast<TS>(), w.Cast<TS>(), rstd, dx.Cast<TS>(), partials.Cast<TF>(), p),
            (stream, count, partials, dw, partialRows, length) => columns(stream, count, partials.Cast<TF>(), dw.Cast<TS>(), partialRows, length));
    }

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
