using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// The quantized rms_norm (<see cref="RmsNormQuantized"/>) on data that lives on an ILGPU accelerator. One instance per
/// accelerator: each (dtype, format) kernel is compiled once, on first use or by <see cref="Preload"/>, and kept.
/// </summary>
/// <remarks>
/// <para>The instance does not own the accelerator: dispose the accelerator after this object.</para>
/// <para>Thread safety: calls are serialized by a lock and bind the accelerator to the calling thread. Launches are
/// asynchronous on the given stream (or the default stream): synchronize it before reading the results.</para>
/// </remarks>
public sealed class RmsNormQuantizeKernels : IDisposable
{
    private readonly DeviceKernels kernels;

    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormQuantizeKernels(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        kernels = new DeviceKernels(accelerator);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => kernels.Accelerator;

    /// <summary>Compiles the kernels of every dtype and format now.</summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Preload()
    {
        using (kernels.Enter(this))
        {
            kernels.Preload(KernelOperation.Quantize);
        }
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
        var type = ElementTypes.Require<T>(nameof(input));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        DeviceViews.RequireOn(Accelerator, input, nameof(input));
        DeviceViews.RequireOn(Accelerator, output, nameof(output));
        DeviceViews.RequireOn(Accelerator, scales, nameof(scales));
        DeviceViews.RequireLength(input.Length, problem.TotalElements, nameof(input), exact: true);
        DeviceViews.RequireLength(output.Length, problem.TotalElements, nameof(output), exact: false);
        if (quantize.StaticScale is null || scales.Length != 0)
        {
            DeviceViews.RequireLength(scales.Length, problem.Segments, nameof(scales), exact: false);
        }

        bool hasWeight = weight.Length != 0;
        if (hasWeight)
        {
            DeviceViews.RequireOn(Accelerator, weight, nameof(weight));
            DeviceViews.RequireLength(weight.Length, problem.NormalizedLength, nameof(weight), exact: true);
        }

        if (problem.TotalElements == 0)
        {
            return;
        }

        using (kernels.Enter(this))
        {
            kernels.Quantize(stream ?? Accelerator.DefaultStream, problem, type, QuantizeSettings.From(quantize), input, hasWeight ? weight : default, output, scales);
        }
    }

    /// <summary>Releases the launchers. Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose() => kernels.Dispose();
}
