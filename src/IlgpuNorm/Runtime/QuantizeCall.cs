using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The validated numbers of a quantization: the format, the static scale (0 for dynamic) and the clamp (+Inf for none).</summary>
/// <param name="Format">The output format.</param>
/// <param name="StaticScale">The static scale, or 0 for dynamic per-segment scales.</param>
/// <param name="Clamp">The clamp, or +Inf.</param>
internal readonly record struct QuantizeSettings(QuantizeFormat Format, float StaticScale, float Clamp)
{
    public static QuantizeSettings From(QuantizeOptions options) =>
        new(options.Format, options.StaticScale ?? 0f, options.Clamp ?? float.PositiveInfinity);
}

/// <summary>The arguments of a quantized rms_norm on host spans.</summary>
internal readonly ref struct QuantizeCall<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
    where T : unmanaged
{
    public RmsNormProblem Problem { get; } = problem;

    public ElementType Type { get; } = type;

    public ReadOnlySpan<T> X { get; } = x;

    public ReadOnlySpan<T> W { get; } = w;

    /// <summary>The codes, one byte per element.</summary>
    public Span<byte> Q { get; } = q;

    /// <summary>One scale per segment, or empty to write none.</summary>
    public Span<float> Scales { get; } = scales;

    public QuantizeSettings Settings { get; } = settings;
}
