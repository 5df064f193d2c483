using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The arguments of an rms_norm backward pass on host spans.</summary>
internal readonly ref struct BackwardCall<T>(
    RmsNormProblem problem,
    ElementType type,
    ReadOnlySpan<T> dy,
    ReadOnlySpan<T> x,
    ReadOnlySpan<T> w,
    ReadOnlySpan<float> rstd,
    Span<T> dx,
    Span<T> dw)
    where T : unmanaged
{
    public RmsNormProblem Problem { get; } = problem;

    public ElementType Type { get; } = type;

    public ReadOnlySpan<T> Dy { get; } = dy;

    public ReadOnlySpan<T> X { get; } = x;

    /// <summary>The weight, or empty (w = 1, no dweight).</summary>
    public ReadOnlySpan<T> W { get; } = w;

    /// <summary>The saved 1/rms per segment, or empty to recompute it.</summary>
    public ReadOnlySpan<float> Rstd { get; } = rstd;

    public Span<T> Dx { get; } = dx;

    /// <summary>dweight (the weight's length), or empty when there is no weight.</summary>
    public Span<T> Dw { get; } = dw;
}

/// <summary>The arguments of the per-segment 1/rms (rstd) computation on host spans.</summary>
internal readonly ref struct RstdCall<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, Span<float> rstd)
    where T : unmanaged
{
    public RmsNormProblem Problem { get; } = problem;

    public ElementType Type { get; } = type;

    public ReadOnlySpan<T> X { get; } = x;

    public Span<float> Rstd { get; } = rstd;
}
