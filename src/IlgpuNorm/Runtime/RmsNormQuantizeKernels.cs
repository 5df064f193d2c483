using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// The quantized rms_norm (<see cref="RmsNormQuantized"/>) on data that lives on an ILGPU accelerator. One instance per
/// accelerator: each (dtype, format) kernel is compiled once, on first use or by <see cref="KernelSet.Preload"/>, and kept.
/// </summary>
public sealed class RmsNormQuantizeKernels : KernelSet
{
    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormQuantizeKernels(Accelerator accelerator)
        : base(accelerator, KernelOperation.Quantize)
    {
    }

    /// <summary>Computes rms_norm quantized to 8 bits on device-resident data (see <see cref="RmsNormQuantized"/> for the numerics).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight of shape <paramref name="normalizedShape"/>, or an empty view for none.</param>
    /// <param name="output">Receives one byte per element (int8 two's complement, or FP8 E4M3FN).</param>
    /// <param name="scales">Receives one float32 scale per segment (rows × num_groups); may be empty with a static scale.</param>
    /// <param name="quantize">The format, scale and clamp.</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="quantize"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps, num_groups, the scale or the clamp is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<byte> output,
        ArrayView<float> scales,
        QuantizeOptions quantize,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(quantize);
        quantize.Validate(nameof(quantize));
        var (type, problem) = Problem(input, shape, normalizedShape, epsilon, numGroups, nameof(input));
        Require(output, problem.TotalElements, nameof(output));
        Require(scales, quantize.StaticScale is null || scales.Length != 0 ? problem.Segments : 0, nameof(scales));
        Require(weight, weight.Length != 0 ? problem.NormalizedLength : 0, nameof(weight), exact: true);

        if (problem.TotalElements == 0)
        {
            return;
        }

        using var scope = Kernels.Enter(this);
        Kernels.Quantize(stream ?? Accelerator.DefaultStream, problem, type, QuantizeSettings.From(quantize), input, weight, output, scales);
    }
}
