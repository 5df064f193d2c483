using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// The rms_norm backward pass (<see cref="RmsNormBackward"/>) and the per-segment 1/rms on data that lives on an ILGPU
/// accelerator. One instance per accelerator: each dtype's kernels are compiled once, on first use or by
/// <see cref="Preload"/>, and kept.
/// </summary>
/// <remarks>
/// <para>dweight goes through a scratch buffer of per-slot partial rows (at most <see cref="MaxGrid"/> groups ×
/// rows per group × the weight's length, in the math type) that the instance keeps and grows; a second kernel adds
/// the partial rows in a fixed order. Calls on one stream are ordered; calls on different streams of one instance
/// share the scratch buffer, so synchronize between them.</para>
/// <para>The instance does not own the accelerator. Calls are serialized by a lock and bind the accelerator to the calling
/// thread. Launches are asynchronous: synchronize the stream before reading the results.</para>
/// </remarks>
public sealed class RmsNormBackwardKernels : IDisposable
{
    /// <summary>The most groups a backward launch uses (bounds the dweight scratch; the groups stride over the rows).</summary>
    public const int MaxGrid = 128;

    private delegate void RowsKernel<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> dy, ArrayView<T> x, ArrayView<T> weight, ArrayView<float> rstd, ArrayView<T> dx, ArrayView<byte> partials, BackwardKernelParams p)
        where T : unmanaged;

    private delegate void ColumnsKernel<T>(AcceleratorStream stream, int columns, ArrayView<byte> partials, ArrayView<T> dweight, int rows, int length)
        where T : unmanaged;

    private readonly Lock gate = new();
    private readonly DeviceLimits limits;
    private readonly Dictionary<ElementType, (Delegate Rows, Delegate Columns)> cache = [];
    private MemoryBuffer1D<byte, Stride1D.Dense>? scratch;
    private MemoryBuffer1D<float, Stride1D.Dense>? noRstd;
    private bool disposed;

    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormBackwardKernels(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        limits = AcceleratorLimits.Of(accelerator);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Compiles the kernels of every dtype now.</summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Preload()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            _ = Kernels<float>(ElementType.Float32);
            _ = Kernels<ushort>(ElementType.Float16);
            _ = Kernels<ushort>(ElementType.BFloat16);
            _ = Kernels<double>(ElementType.Float64);
        }
    }

    /// <summary>Computes dx and dweight of rms_norm on device-resident data (see <see cref="RmsNormBackward"/> for the numerics).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="dy">The gradient of the output, with <paramref name="shape"/>.</param>
    /// <param name="x">The forward's input, with <paramref name="shape"/>.</param>
    /// <param name="shape">The shape of <paramref name="x"/> and <paramref name="dy"/>.</param>
    /// <param name="normalizedShape">The trailing dimensions that were normalized.</param>
    /// <param name="weight">The weight, or an empty view for none (w = 1; then <paramref name="dweight"/> must be empty).</param>
    /// <param name="rstd">The saved 1/rms per segment (rows × num_groups), or an empty view to recompute it.</param>
    /// <param name="dx">Receives dx, with <paramref name="shape"/>.</param>
    /// <param name="dweight">Receives dweight (the weight's length); empty when there is no weight.</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps or num_groups is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> dy,
        ArrayView<T> x,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<float> rstd,
        ArrayView<T> dx,
        ArrayView<T> dweight,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        var type = ElementTypes.Require<T>(nameof(x));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        DeviceViews.RequireOn(Accelerator, dy, nameof(dy));
        DeviceViews.RequireOn(Accelerator, x, nameof(x));
        DeviceViews.RequireOn(Accelerator, dx, nameof(dx));
        DeviceViews.RequireLength(dy.Length, problem.TotalElements, nameof(dy), exact: true);
        DeviceViews.RequireLength(x.Length, problem.TotalElements, nameof(x), exact: true);
        DeviceViews.RequireLength(dx.Length, problem.TotalElements, nameof(dx), exact: false);
        bool hasWeight = weight.Length != 0;
        if (hasWeight)
        {
            DeviceViews.RequireOn(Accelerator, weight, nameof(weight));
            DeviceViews.RequireOn(Accelerator, dweight, nameof(dweight));
            DeviceViews.RequireLength(weight.Length, problem.NormalizedLength, nameof(weight), exact: true);
            DeviceViews.RequireLength(dweight.Length, problem.NormalizedLength, nameof(dweight), exact: false);
        }
        else if (dweight.Length != 0)
        {
            throw new ArgumentException($"Expected an empty dweight without a weight; got {dweight.Length} elements.", nameof(dweight));
        }

        bool hasRstd = rstd.Length != 0;
        if (hasRstd)
        {
            DeviceViews.RequireOn(Accelerator, rstd, nameof(rstd));
            DeviceViews.RequireLength(rstd.Length, problem.Segments, nameof(rstd), exact: true);
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            var s = stream ?? Accelerator.DefaultStream;
            switch (type)
            {
                case ElementType.Float32:
                    Run(s, ElementType.Float32, problem, Cast<T, float>(dy), Cast<T, float>(x), Cast<T, float>(hasWeight ? weight : x), hasWeight, rstd, false, Cast<T, float>(dx), Cast<T, float>(dweight), sizeof(float));
                    break;
                case ElementType.Float16:
                case ElementType.BFloat16:
                    Run(s, type, problem, Cast<T, ushort>(dy), Cast<T, ushort>(x), Cast<T, ushort>(hasWeight ? weight : x), hasWeight, rstd, false, Cast<T, ushort>(dx), Cast<T, ushort>(dweight), sizeof(float));
                    break;
                default:
                    Run(s, ElementType.Float64, problem, Cast<T, double>(dy), Cast<T, double>(x), Cast<T, double>(hasWeight ? weight : x), hasWeight, rstd, false, Cast<T, double>(dx), Cast<T, double>(dweight), sizeof(double));
                    break;
            }
        }
    }

    /// <summary>Computes the per-segment 1/rms, <c>1 / sqrt(mean(x²) + eps)</c>, that <see cref="Compute{T}"/> can take instead of recomputing it.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="x">The input, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="rstd">Receives one float32 per segment (rows × num_groups).</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps or num_groups is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void ComputeRstd<T>(
        ArrayView<T> x,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<float> rstd,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        var type = ElementTypes.Require<T>(nameof(x));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        DeviceViews.RequireOn(Accelerator, x, nameof(x));
        DeviceViews.RequireOn(Accelerator, rstd, nameof(rstd));
        DeviceViews.RequireLength(x.Length, problem.TotalElements, nameof(x), exact: true);
        DeviceViews.RequireLength(rstd.Length, problem.Segments, nameof(rstd), exact: false);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            var s = stream ?? Accelerator.DefaultStream;
            switch (type)
            {
                case ElementType.Float32:
                    Run(s, type, problem, Cast<T, float>(x), Cast<T, float>(x), Cast<T, float>(x), false, rstd, true, Cast<T, float>(x), default, sizeof(float));
                    break;
                case ElementType.Float16:
                case ElementType.BFloat16:
                    Run(s, type, problem, Cast<T, ushort>(x), Cast<T, ushort>(x), Cast<T, ushort>(x), false, rstd, true, Cast<T, ushort>(x), default, sizeof(float));
                    break;
                default:
                    Run(s, type, problem, Cast<T, double>(x), Cast<T, double>(x), Cast<T, double>(x), false, rstd, true, Cast<T, double>(x), default, sizeof(double));
                    break;
            }
        }
    }

    /// <summary>Releases the launchers and the scratch buffer. Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            cache.Clear();
            scratch?.Dispose();
            scratch = null;
            noRstd?.Dispose();
            noRstd = null;
        }
    }

    private static ArrayView<TTo> Cast<TFrom, TTo>(ArrayView<TFrom> view)
        where TFrom : unmanaged
        where TTo : unmanaged => view.Length == 0 ? default : view.Cast<TTo>();

    private void Run<TS>(
        AcceleratorStream stream, ElementType type, RmsNormProblem problem, ArrayView<TS> dy, ArrayView<TS> x, ArrayView<TS> weight, bool hasWeight,
        ArrayView<float> rstd, bool rstdOnly, ArrayView<TS> dx, ArrayView<TS> dweight, int mathBytes)
        where TS : unmanaged
    {
        if (problem.TotalElements == 0 && !hasWeight)
        {
            return;
        }

        var (rows, columns) = Kernels<TS>(type);
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        int length = problem.NormalizedLength;
        bool hasRstd = rstd.Length != 0 && !rstdOnly;
        var rstdView = rstd.Length != 0 ? rstd : (noRstd ??= Accelerator.Allocate1D<float>(1)).View.BaseView;

        // One plan for the whole call (the partial rows are indexed by slot), capped at MaxGrid groups.
        long maxSegments = Math.Min(problem.Segments, Math.Max(1, (int.MaxValue - 1024) / groups) * (long)groups);
        var plan = LaunchPlan.Create(n, Math.Max(1, maxSegments), limits);
        int grid = Math.Min(plan.GridSize, MaxGrid);
        int partialRows = hasWeight ? grid * plan.RowsPerGroup : 0;
        var partials = Scratch(Math.Max(1L, (long)partialRows * length) * mathBytes);
        if (hasWeight)
        {
            partials.SubView(0, (long)partialRows * length * mathBytes).MemSetToZero(stream);
        }

        long rowsPerLaunch = Math.Max(1, (int.MaxValue - 1024) / groups);
        for (long row = 0; row < problem.Rows; row += rowsPerLaunch)
        {
            long count = Math.Min(rowsPerLaunch, problem.Rows - row);
            int segments = (int)(count * groups);
            long start = row * length;
            long elements = count * length;
            var config = new KernelConfig(new Index1D(grid), new Index1D(plan.GroupSize));
            var p = new BackwardKernelParams(n, segments, groups, length, plan.ThreadsPerRow, plan.RowsPerGroup,
                hasWeight ? 1 : 0, hasRstd ? 1 : 0, rstdOnly ? 1 : 0, problem.Epsilon) { WarpShuffle = plan.WarpShuffle };
            var segmentRstd = rstd.Length != 0 ? rstdView.SubView(row * groups, segments) : rstdView;
            ((RowsKernel<TS>)rows)(stream, config, dy.SubView(start, elements), x.SubView(start, elements), weight, segmentRstd,
                dx.SubView(start, elements), partials, p);
        }

        if (hasWeight)
        {
            ((ColumnsKernel<TS>)columns)(stream, length, partials, dweight, partialRows, length);
        }
    }

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

    private (Delegate Rows, Delegate Columns) Kernels<TS>(ElementType type)
        where TS : unmanaged
    {
        if (!cache.TryGetValue(type, out var kernels))
        {
            kernels = type switch
            {
                ElementType.Float32 => Load<float, float, Float32BackwardCodec>(),
                ElementType.Float16 => Load<ushort, float, SixteenBitBackwardCodec<Float16Format>>(),
                ElementType.BFloat16 => Load<ushort, float, SixteenBitBackwardCodec<BFloat16Format>>(),
                _ => Load<double, double, Float64BackwardCodec>(),
            };
            cache[type] = kernels;
        }

        return kernels;
    }

    private (Delegate Rows, Delegate Columns) Load<T, TF, TCodec>()
        where T : unmanaged
        where TF : unmanaged
        where TCodec : struct, IBackwardCodec<T, TF>
    {
        var rows = Accelerator.LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<float>, ArrayView<T>, ArrayView<TF>, BackwardKernelParams>(
            RmsNormBackwardKernel.Rows<T, TF, TCodec>);
        var columns = Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<TF>, ArrayView<T>, int, int>(
            RmsNormBackwardKernel.Columns<T, TF, TCodec>);
        RowsKernel<T> rowsLauncher = (stream, config, dy, x, weight, rstd, dx, partials, p) =>
            rows(stream, config, dy, x, weight, rstd, dx, partials.Cast<TF>(), p);
        ColumnsKernel<T> columnsLauncher = (stream, count, partials, dweight, partialRows, length) =>
            columns(stream, count, partials.Cast<TF>(), dweight, partialRows, length);
        return (rowsLauncher, columnsLauncher);
    }
}
