using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// rms_norm on data that already lives on an ILGPU accelerator (<see cref="ArrayView{T}"/>), so a GPU
/// pipeline never goes through the host. One instance per accelerator: it compiles each dtype's kernel
/// once (on first use, or all at once with <see cref="KernelSet.Preload"/>) and keeps the launchers.
/// </summary>
public sealed partial class RmsNormKernels : KernelSet
{
    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormKernels(Accelerator accelerator)
        : base(For(accelerator), KernelOperation.Forward)
    {
    }

    /// <summary>The public face of a device's shared kernels (the dispatcher's backend).</summary>
    internal RmsNormKernels(DeviceKernels kernels)
        : base(kernels, KernelOperation.Forward)
    {
    }

    /// <summary>Whether the last launch used the 16-byte vector kernel (tests of the variant choice).</summary>
    internal bool LastLaunchUsedVector => Kernels.LastForwardUsedVector;

    /// <summary>
    /// Computes <c>rms_norm(input, normalized_shape, num_groups, weight, eps)</c> on device-resident data.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight of shape <paramref name="normalizedShape"/>, or an empty view (<c>default</c>) for none.</param>
    /// <param name="output">Receives the result; at least as long as <paramref name="input"/>; may be <paramref name="input"/> itself.</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream to launch on; the accelerator's default stream when null.</param>
    /// <remarks>The numerics are those of <see cref="RmsNorm"/>. The call returns once the kernel is queued.</remarks>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit; the message names what was expected and what was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> or <paramref name="numGroups"/> is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<T> output,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        var (type, problem) = Problem(input, shape, normalizedShape, epsilon, numGroups, nameof(input));
        int n = problem.NormalizedLength;
        Enqueue(type, problem, new RmsNormExtras(RmsNormPolicy.TensorRtLlm, 0f, n, n, n), input, default, weight, default, output, stream);
    }
}
