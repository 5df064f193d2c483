namespace IlgpuNorm;

/// <summary>How <see cref="RmsNormQuantized"/> quantizes: the format, a static scale or dynamic per-token scales, and an optional clamp.</summary>
public sealed record QuantizeOptions
{
    /// <summary>The largest int8 code used, 127 (symmetric range; -128 is never produced).</summary>
    public const float Int8Max = 127f;

    /// <summary>
    /// The smallest dynamic scale for int8, float32's machine epsilon 2^-23 (vLLM's <c>min_scaling_factor&lt;int8_t&gt;</c>):
    /// the scale of an all-zero (or all-NaN) row.
    /// </summary>
    public const float Int8MinScale = 1.1920929E-07f;

    /// <summary>The smallest dynamic scale for FP8 E4M3, 1 / (448 · 512) (vLLM's <c>min_scaling_factor&lt;c10::Float8_e4m3fn&gt;</c>).</summary>
    public const float Float8MinScale = 1f / (448f * 512f);

    /// <summary>The output format; <see cref="QuantizeFormat.Int8"/> by default.</summary>
    public QuantizeFormat Format { get; init; } = QuantizeFormat.Int8;

    /// <summary>
    /// A static per-tensor scale (finite, &gt; 0): q = quantize(y / scale), a true float32 division (not a multiply by the
    /// reciprocal), as vLLM's <c>scaled_fp8_quant</c> with a given scale. <see langword="null"/> (the default) means dynamic
    /// per-token scales: each segment's scale is max(amax / qmax, the format's minimum scale).
    /// </summary>
    public float? StaticScale { get; init; }

    /// <summary>
    /// An optional clamp (finite, &gt; 0): y is clamped to [-clamp, clamp] before quantization, so a dynamic scale is at most
    /// clamp / qmax (vLLM's <c>scale_ub</c>). <see langword="null"/> for none. NaN stays NaN.
    /// </summary>
    public float? Clamp { get; init; }

    /// <summary>The largest code magnitude of <see cref="Format"/>: 127 or 448.</summary>
    public float QMax => Format == QuantizeFormat.Int8 ? Int8Max : Fp8E4M3.MaxValue;

    /// <summary>The smallest dynamic scale of <see cref="Format"/>.</summary>
    public float MinScale => Format == QuantizeFormat.Int8 ? Int8MinScale : Float8MinScale;

    /// <summary>Checks the options; every failure names the property, what was expected and what was given.</summary>
    /// <param name="paramName">The parameter the options came in.</param>
    /// <exception cref="ArgumentOutOfRangeException">The format is unknown, or the scale or clamp is not finite and &gt; 0.</exception>
    internal void Validate(string paramName)
    {
        if (Format is not (QuantizeFormat.Int8 or QuantizeFormat.Float8E4M3))
        {
            throw new ArgumentOutOfRangeException(paramName, Format, $"{nameof(Format)}: expected Int8 or Float8E4M3; got {Format}.");
        }

        if (StaticScale is { } scale && !(float.IsFinite(scale) && scale > 0))
        {
            throw new ArgumentOutOfRangeException(paramName, scale, $"{nameof(StaticScale)}: expected a finite scale > 0; got {scale}.");
        }

        if (Clamp is { } clamp && !(float.IsFinite(clamp) && clamp > 0))
        {
            throw new ArgumentOutOfRangeException(paramName, clamp, $"{nameof(Clamp)}: expected a finite clamp > 0; got {clamp}.");
        }
    }
}
