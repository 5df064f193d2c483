using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Api;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// The rms_norm backward pass (<see cref="RmsNormBackward"/>) and the per-segment 1/rms on data that lives on an ILGPU
/// accelerator. One instance per accelerator: each dtype's kernels are compiled once, on first use or by
/// <see cref="KernelSet.Preload"/>, and kept.
/// </summary>
/// <remarks>
/// <para>dweight goes through a scratch buffer of per-slot partial rows (at most <see cref="MaxGrid"/> groups ×
/// rows per group × the weight's length, in the math type) that the instance keeps and grows; a second kernel adds
/// the partial rows in a fixed order. Calls on one stream are ordered; calls on different streams of one instance
/// share the scratch buffer, so synchronize between them.</para>
/// </remarks>
public sealed class RmsNormBackwardKernels : KernelSet
{
    /// <summary>The most groups a backward launch uses (bounds the dweight scratch; the groups stride over the rows).</summary>
    public const int MaxGrid = 128;

    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormBackwardKernels(Accelerator accelerator)
        : base(accelerator, KernelOperation.Backward)
    {
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
        var (type, problem) = Problem(x, shape, normalizedShape, epsilon, numGroups, nameof(x));
        Require(dy, problem.TotalElements, nameof(dy), exact: true);
        Require(dx, problem.TotalElements, nameof(dx));
        Require(weight, weight.Length != 0 ? problem.NormalizedLength : 0, nameof(weight), exact: true);
        RequireOn(dweight, nameof(dweight));
        ApiChecks.Dweight(weight.Length, dweight.Length, problem);
        RequireOn(rstd, nameof(rstd));
        ApiChecks.Rstd(rstd.Length, problem);
        using var scope = Kernels.Enter(this);
        Kernels.Backward(stream ?? Accelerator.DefaultStream, problem, type, dy, x, weight, rstd, dx, weight.Length != 0 ? dweight : default);
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
        var (type, problem) = Problem(x, shape, normalizedShape, epsilon, numGroups, nameof(x));
        Require(rstd, problem.Segments, nameof(rstd));
        using var scope = Kernels.Enter(this);
        Kernels.Backward(stream ?? Accelerator.DefaultStream, problem, type, x, x, default, rstd, x, default, rstdOnly: true);
    }
}
