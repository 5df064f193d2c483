using System.Runtime.InteropServices;
using IlgpuNorm.Api;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// rms_norm fused with 8-bit quantization (int8 or FP8 E4M3) with a static per-tensor scale or dynamic per-token scales,
/// as TensorRT-LLM's RMSNorm-quantization kernels and vLLM's <c>rms_norm_dynamic_per_token_quant</c>; on host data,
/// run on the device the dispatcher picks.
/// </summary>
/// <remarks>
/// <para>For each segment (a row over the normalized axes, or one of its <c>num_groups</c> groups):</para>
/// <code>
/// v     = x / sqrt(mean(x²) + eps) · w        // float32 throughout (float64 for float64 inputs, then rounded to float32 once);
///                                              // not rounded to the input dtype in between
/// v     = clamp(v, -Clamp, Clamp)             // when a clamp is given (NaN stays NaN)
/// scale = StaticScale                         // static; or, dynamic per segment:
/// scale = max(amax(|v|) / qmax, MinScale)     //   qmax = 127 (int8) or 448 (fp8); NaN ignored by amax
/// q     = encode(v / scale)                   // a true float32 division, not a multiply by the reciprocal
/// </code>
/// <para>encode rounds to nearest even and saturates: int8 to -127..127 (symmetric; -128 is never produced), FP8 to ±448
/// (see <see cref="Fp8E4M3"/>). NaN gives 0 in int8 and 0x7F in FP8; ±Inf saturates. Dequantize with q · scale.</para>
/// <para>Special rows: an all-zero row (eps &gt; 0) has amax = 0, so its scale is the minimum (<see cref="QuantizeOptions.Int8MinScale"/>,
/// <see cref="QuantizeOptions.Float8MinScale"/>, as vLLM's <c>min_scaling_factor</c>) and all its codes are 0. A NaN in a row makes
/// the whole row NaN (codes 0 / 0x7F, scale the minimum); a ±Inf makes finite elements 0 and infinite ones NaN.</para>
/// <para>Scales: one float32 per segment (rows × num_groups; per token when num_groups = 1). With a static scale the scales span
/// may be empty; when given it receives the static scale in every entry.</para>
/// </remarks>
public static class RmsNormQuantized
{
    /// <summary>Computes the quantized rms_norm into int8 codes.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="destination">Receives the codes; at least as long as the input.</param>
    /// <param name="scales">Receives one scale per segment; may be empty with a static scale.</param>
    /// <param name="quantize">The format (must be <see cref="QuantizeFormat.Int8"/>), scale and clamp.</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="quantize"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="RmsNorm"/>; or the format is not int8; or a destination is too short or overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, eps, num_groups, the scale or the clamp is out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Compute<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        Span<sbyte> destination,
        Span<float> scales,
        QuantizeOptions quantize,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(quantize);
        if (quantize.Format != QuantizeFormat.Int8)
        {
            throw new ArgumentException($"An sbyte destination takes int8 codes; got format {quantize.Format} (pass a byte destination for FP8).", nameof(destination));
        }

        Compute(input, shape, normalizedShape, weight, MemoryMarshal.AsBytes(destination), scales, quantize, options);
    }

    /// <summary>Computes the quantized rms_norm into bytes (int8 two's complement, or FP8 E4M3FN).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="destination">Receives one byte per element; at least as long as the input.</param>
    /// <param name="scales">Receives one scale per segment (rows × num_groups); may be empty with a static scale.</param>
    /// <param name="quantize">The format, scale and clamp.</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="quantize"/> is null.</exception>
    /// <exception cref="ArgumentException">As <see cref="RmsNorm"/>; or a destination is too short or overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, eps, num_groups, the scale or the clamp is out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Compute<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        Span<byte> destination,
        Span<float> scales,
        QuantizeOptions quantize,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(quantize);
        quantize.Validate(nameof(quantize));
        options ??= RmsNormOptions.Default;
        var (type, problem) = ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(input));
        ApiChecks.Weight(weight.Length, problem);
        ApiChecks.Length(destination.Length, problem.TotalElements, nameof(destination));
        if (quantize.StaticScale is null || !scales.IsEmpty)
        {
            ApiChecks.Length(scales.Length, problem.Segments, nameof(scales));
        }

        var q = destination[..(int)problem.TotalElements];
        var s = scales.IsEmpty ? scales : scales[..(int)problem.Segments];
        ApiChecks.NoOverlap<byte, T>(q, input, nameof(destination), "input");
        ApiChecks.NoOverlap<byte, T>(q, weight, nameof(destination), "weight");
        ApiChecks.NoOverlap<float, T>(s, input, nameof(scales), "input");
        ApiChecks.NoOverlap<float, T>(s, weight, nameof(scales), "weight");
        ApiChecks.NoOverlap<float, byte>(s, q, nameof(scales), "destination");
        if (problem.TotalElements == 0)
        {
            return;
        }

        var request = new QuantizeRequest<T>(problem, type, input, weight, q, s, QuantizeSettings.From(quantize));
        DeviceDispatcher.Shared.Execute(options.Device, ref request, static (IComputeBackend backend, ref QuantizeRequest<T> r) => backend.Quantize(r));
    }
}
