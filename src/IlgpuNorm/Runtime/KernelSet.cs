using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Api;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// The kernels of one operation on one ILGPU accelerator, the part <see cref="RmsNormKernels"/>,
/// <see cref="RmsNormQuantizeKernels"/> and <see cref="RmsNormBackwardKernels"/> share: each kernel (per dtype, and per
/// format or packet width) is compiled once, on first use or by <see cref="Preload"/>, and kept.
/// </summary>
/// <remarks>
/// <para>The instance does not own the accelerator: dispose the accelerator after this object.</para>
/// <para>Thread safety: ILGPU accelerators and streams are not thread-safe. Calls on one instance are serialized by a
/// lock, and each call binds the accelerator to the calling thread (CUDA contexts are per thread). Launches are
/// asynchronous on the given stream (or the accelerator's default stream): synchronize the stream before reading the
/// results on the host.</para>
/// </remarks>
public abstract class KernelSet : IDisposable
{
    private readonly KernelOperation operation;

    private protected KernelSet(DeviceKernels kernels, KernelOperation operation)
    {
        Kernels = kernels;
        this.operation = operation;
    }

    /// <summary>A new set on <paramref name="accelerator"/>, with kernels of its own.</summary>
    private protected KernelSet(Accelerator accelerator, KernelOperation operation)
        : this(new DeviceKernels(accelerator ?? throw new ArgumentNullException(nameof(accelerator))), operation)
    {
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => Kernels.Accelerator;

    /// <summary>The accelerator scope and kernel cache the launches go through.</summary>
    internal DeviceKernels Kernels { get; }

    /// <summary>Compiles every kernel of this set now, so no later call compiles.</summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Preload()
    {
        using var scope = Kernels.Enter(this);
        Kernels.Preload(operation);
    }

    /// <summary>Releases the compiled kernels' launchers (and any scratch buffer). Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose()
    {
        Kernels.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Checks the input view of a call (accelerator, dtype, shape, exact length) and returns the problem.</summary>
    private protected (ElementType Type, RmsNormProblem Problem) Problem<T>(ArrayView<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, double epsilon, int numGroups, string paramName)
        where T : unmanaged
    {
        RequireOn(input, paramName);
        return ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, numGroups, epsilon, paramName);
    }

    /// <summary>Checks a view's accelerator and length (exactly <paramref name="expected"/>, or at least that).</summary>
    private protected void Require<T>(ArrayView<T> view, long expected, string paramName, bool exact = false)
        where T : unmanaged
    {
        RequireOn(view, paramName);
        ApiChecks.Length(view.Length, expected, paramName, exact);
    }

    /// <summary>Throws unless a non-empty view lives on this set's accelerator (an empty view, <c>default</c>, has none).</summary>
    private protected void RequireOn<T>(ArrayView<T> view, string paramName)
        where T : unmanaged
    {
        var owner = view.Length == 0 ? null : view.GetAccelerator();
        if (owner is not null && !ReferenceEquals(owner, Accelerator))
        {
            throw new ArgumentException($"Expected a view on accelerator '{Accelerator.Name}'; got one on '{owner.Name}'.", paramName);
        }
    }
}
