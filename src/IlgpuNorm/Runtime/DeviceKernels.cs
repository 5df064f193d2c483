using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>The operations whose kernels <see cref="DeviceKernels"/> caches.</summary>
internal enum KernelOperation
{
    /// <summary>The forward norm; the variant is the packet width.</summary>
    Forward,

    /// <summary>The quantized norm; the variant is the <see cref="QuantizeFormat"/>.</summary>
    Quantize,

    /// <summary>The backward pass and its dweight column sum; one variant.</summary>
    Backward,
}

/// <summary>
/// One accelerator's kernels and the scope every launch runs in: one lock, the accelerator bound to the calling thread,
/// the disposed check, one cache of compiled kernels keyed by (operation, dtype, variant), and the row chunks of a
/// launch. Nothing here validates: the public device classes and <see cref="IlgpuBackend"/> pass checked requests.
/// </summary>
internal sealed partial class DeviceKernels(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<(KernelOperation, ElementType, int), object> cache = [];
    private MemoryBuffer1D<byte, Stride1D.Dense>? scratch;
    private MemoryBuffer1D<float, Stride1D.Dense>? standIn;

    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>The lock of every launch on this accelerator (re-entrant); <see cref="Enter"/> takes it.</summary>
    public Lock Gate { get; } = new();

    public bool IsDisposed { get; private set; }

    public DeviceLimits Limits { get; } = DeviceCatalog.Limits(accelerator);

    /// <summary>A one-element float view for a kernel argument the call leaves out: some drivers reject a null buffer.</summary>
    private ArrayView<float> StandIn => (standIn ??= Accelerator.Allocate1D<float>(1)).View.BaseView;

    /// <summary>
    /// Enters the scope of a launch: takes the lock, throws when disposed, binds the accelerator to this thread (CUDA
    /// contexts are per thread). Dispose the result to leave.
    /// </summary>
    /// <param name="owner">The object named by the <see cref="ObjectDisposedException"/>.</param>
    public Lock.Scope Enter(object owner)
    {
        var scope = Gate.EnterScope();
        if (IsDisposed)
        {
            scope.Dispose();
            throw new ObjectDisposedException(owner.GetType().FullName);
        }

        Accelerator.Bind();
        return scope;
    }

    /// <summary>Compiles every dtype's kernels of an operation now (inside <see cref="Enter"/>).</summary>
    public void Preload(KernelOperation operation)
    {
        foreach (var type in Enum.GetValues<ElementType>())
        {
            int[] variants = operation switch
            {
                KernelOperation.Forward => [1, LaunchPlan.VectorBytes / ElementTypes.SizeOf(type)],
                KernelOperation.Quantize => [(int)QuantizeFormat.Int8, (int)QuantizeFormat.Float8E4M3],
                _ => [0],
            };
            foreach (int variant in variants)
            {
                _ = Kernel<object>(operation, type, variant);
            }
        }
    }

    /// <summary>Releases the kernels and buffers. Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose()
    {
        using var scope = Gate.EnterScope();
        IsDisposed = true;
        cache.Clear();
        scratch?.Dispose();
        standIn?.Dispose();
        (scratch, standIn) = (null, null);
    }

    /// <summary>The cached kernel of (operation, dtype, variant), loaded on first use.</summary>
    private TKernel Kernel<TKernel>(KernelOperation operation, ElementType type, int variant)
        where TKernel : class
    {
        ref object? kernel = ref CollectionsMarshal.GetValueRefOrAddDefault(cache, (operation, type, variant), out _);
        kernel ??= operation switch
        {
            KernelOperation.Forward => LoadForward(type, variant),
            KernelOperation.Quantize => LoadQuantize(type, variant),
            _ => LoadBackward(type),
        };
        return (TKernel)kernel;
    }
}

/// <summary>
/// The row chunks of a problem, one launch each: whole rows (which keep each segment's weight slice at s % num_groups),
/// few enough that the segment indices fit an int. The enumerator is its own current chunk: nothing allocated.
/// </summary>
internal struct RowChunks(RmsNormProblem problem)
{
    /// <summary>The most rows one launch takes.</summary>
    public static long RowsPerLaunch(int groups) => Math.Max(1, (int.MaxValue - 1024) / groups);

    public long FirstRow { get; private set; }

    public long Rows { get; private set; }

    public readonly int Segments => (int)(Rows * problem.NumGroups);

    public readonly RowChunks Current => this;

    /// <summary>
    /// The chunk's rows of a view whose rows are <paramref name="stride"/> apart, from the first row's start to the last
    /// row's end, as bytes (the kernels' view type).
    /// </summary>
    public readonly ArrayView<byte> Of<T>(ArrayView<T> view, long stride, long rowLength)
        where T : unmanaged => view.SubView(FirstRow * stride, (Rows - 1) * stride + rowLength).Cast<byte>();

    public readonly RowChunks GetEnumerator() => this;

    public bool MoveNext()
    {
        FirstRow += Rows;
        Rows = Math.Min(RowsPerLaunch(problem.NumGroups), problem.Rows - FirstRow);
        return Rows > 0;
    }
}
