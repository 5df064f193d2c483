using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>One operation run by <see cref="DeviceDispatcher"/> on a backend, with its request passed by reference.</summary>
internal delegate void BackendOperation<TCall>(IComputeBackend backend, ref TCall call)
    where TCall : allows ref struct;

/// <summary>
/// A device that runs validated requests on host spans, one method per operation. Each writes the request's outputs
/// only after the whole result exists (and never the elements between strided rows). Quantize, Backward and Rstd
/// throw <see cref="NotSupportedException"/> unless the backend implements them.
/// </summary>
internal interface IComputeBackend : IDisposable
{
    DeviceInfo Info { get; }

    /// <summary>The forward rms_norm, plain or extended (the backend chooses its fast path from the request).</summary>
    void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged;

    /// <summary>rms_norm quantized to 8 bits.</summary>
    void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the quantized rms_norm.");

    void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm backward pass.");

    /// <summary>The per-segment 1/rms.</summary>
    void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm statistics.");
}

/// <summary>
/// A validated forward rms_norm on host spans: the plain norm, or with any of the extensions (policy, weight offset,
/// bias, fused residual add, strided rows). The spans cover the layout's extents; the backend picks its fast path from
/// <see cref="IsPlain"/>, as the kernel picks its own from <see cref="Kernels.RmsNormKernelParams.Plain"/>.
/// Residual (updated in place to (T)(x + residual)), W and B are empty when absent.
/// </summary>
internal readonly ref struct ForwardRequest<T>(RmsNormProblem problem, ElementType type, RmsNormExtras extras, ReadOnlySpan<T> x, Span<T> residual, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
    where T : unmanaged
{
    public readonly RmsNormProblem Problem = problem;
    public readonly ElementType Type = type;
    public readonly RmsNormExtras Extras = extras;
    public readonly ReadOnlySpan<T> X = x, W = w, B = b;
    public readonly Span<T> Residual = residual, Y = y;

    /// <summary>The original norm: contiguous rows, no residual, bias, policy or offset.</summary>
    public bool IsPlain => Residual.IsEmpty && B.IsEmpty && Extras.IsPlain(Problem);
}

/// <summary>The validated numbers of a quantization: the format, the static scale (0 for dynamic) and the clamp (+Inf for none).</summary>
internal readonly record struct QuantizeSettings(QuantizeFormat Format, float StaticScale, float Clamp)
{
    public static QuantizeSettings From(QuantizeOptions options) =>
        new(options.Format, options.StaticScale ?? 0f, options.Clamp ?? float.PositiveInfinity);
}

/// <summary>A validated quantized rms_norm on host spans: one code byte per element, one scale per segment (Scales empty: none written).</summary>
internal readonly ref struct QuantizeRequest<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
    where T : unmanaged
{
    public readonly RmsNormProblem Problem = problem;
    public readonly ElementType Type = type;
    public readonly ReadOnlySpan<T> X = x, W = w;
    public readonly Span<byte> Q = q;
    public readonly Span<float> Scales = scales;
    public readonly QuantizeSettings Settings = settings;
}

/// <summary>
/// A validated rms_norm backward pass on host spans. W empty: w = 1 and Dw empty (no dweight); Rstd empty: recompute
/// the saved 1/rms per segment.
/// </summary>
internal readonly ref struct BackwardRequest<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
    where T : unmanaged
{
    public readonly RmsNormProblem Problem = problem;
    public readonly ElementType Type = type;
    public readonly ReadOnlySpan<T> Dy = dy, X = x, W = w;
    public readonly ReadOnlySpan<float> Rstd = rstd;
    public readonly Span<T> Dx = dx, Dw = dw;
}

/// <summary>A validated per-segment 1/rms (rstd) on host spans.</summary>
internal readonly ref struct RstdRequest<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, Span<float> rstd)
    where T : unmanaged
{
    public readonly RmsNormProblem Problem = problem;
    public readonly ElementType Type = type;
    public readonly ReadOnlySpan<T> X = x;
    public readonly Span<float> Rstd = rstd;
}
