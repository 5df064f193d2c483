using IlgpuNorm.Api;

namespace IlgpuNorm;

/// <summary>
/// RMS normalization exactly as <c>tensorrt_llm.functional.rms_norm(input, normalized_shape, num_groups=1, weight=None, eps=1e-6)</c>,
/// on host data, run on the device the dispatcher picks.
/// </summary>
/// <remarks>
/// <para>For each slice over the last <c>normalizedShape.Length</c> axes (or each of its <c>num_groups</c> groups):</para>
/// <code>
/// x32 = (float)x
/// ms  = mean(x32²)                 // accumulated in float32
/// y32 = x32 / sqrt(ms + eps)       // a true division, not a multiply by rsqrt
/// y   = (T)y32                     // rounded to the input dtype (nearest even)
/// y   = (T)(y * weight)            // in the input dtype, rounded again
/// </code>
/// <para>That is the default <see cref="RmsNormPolicy.TensorRtLlm"/>; <see cref="RmsNormOptions.Policy"/> selects another
/// rounding, <see cref="RmsNormOptions.WeightOffset"/> adds an offset to the weight (Gemma), and the overloads with a
/// bias, <see cref="ComputeFusedAdd{T}"/> (the residual add fused in) and <see cref="ComputeRows{T}"/> (strided rows) extend it.</para>
/// <para>float64 inputs do all of it in float64. For float32 the two roundings coincide. eps is rounded to float32
/// for float32, float16 and bfloat16 inputs.</para>
/// <para>Special values: a NaN anywhere in a slice makes that whole slice NaN; a ±Inf makes the slice's sum infinite,
/// so finite elements become ±0 and the infinite ones NaN; an x² that overflows float32 does the same. An all-zero
/// slice gives zeros when eps &gt; 0 and NaN (0/0) when eps = 0. Rows never affect each other.</para>
/// <para>Names: <c>normalizedShape</c> is <c>normalized_shape</c>, <see cref="RmsNormOptions.NumGroups"/> is
/// <c>num_groups</c>, <see cref="RmsNormOptions.Epsilon"/> is <c>eps</c>.</para>
/// <para>Thread safety: calls may come from any number of threads; each device serializes its own launches.</para>
/// </remarks>
public static partial class RmsNorm
{
    /// <summary>Computes rms_norm into a new array.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <returns>The result, with the input's shape and dtype.</returns>
    /// <exception cref="ArgumentException">The dtype is unsupported, the shape does not match the input's length or the normalized shape, the weight's length is not the normalized size, or num_groups does not divide it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a normalized dimension is zero, eps is negative or not finite, or num_groups &lt; 1.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static T[] Compute<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight = default,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        // The shape is checked before the allocation: a call that fails allocates nothing.
        options ??= RmsNormOptions.Default;
        var (_, problem) = ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(input));
        var result = new T[problem.TotalElements];
        Compute(input, shape, normalizedShape, weight, result, options);
        return result;
    }

    /// <summary>Computes rms_norm into <paramref name="destination"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="destination">Receives the result; at least as long as the input. It may be the input itself (in place); any other overlap is an error.</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">As <see cref="Compute{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, RmsNormOptions?)"/>, or the destination is too short or partly overlaps the input or weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a normalized dimension is zero, eps is negative or not finite, or num_groups &lt; 1.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Compute<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        Span<T> destination,
        RmsNormOptions? options = null)
        where T : unmanaged =>
        Compute(input, shape, normalizedShape, weight, bias: default, destination, options);
}
