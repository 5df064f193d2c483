using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The quantized and backward operations; a backend without them throws <see cref="NotSupportedException"/>.</summary>
internal partial interface IComputeBackend
{
    /// <summary>rms_norm quantized to 8 bits; writes <paramref name="q"/> and <paramref name="scales"/> only after the whole result exists.</summary>
    void RunQuantized<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the quantized rms_norm.");

    /// <summary>The backward pass; writes <paramref name="dx"/> and <paramref name="dw"/> only after the whole result exists.</summary>
    void RunBackward<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm backward pass.");

    /// <summary>The per-segment 1/rms.</summary>
    void RunRstd<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm statistics.");
}
