using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>One operation run by <see cref="DeviceDispatcher"/> on a backend, with its arguments passed by reference.</summary>
/// <typeparam name="TCall">The arguments (usually a ref struct of spans).</typeparam>
/// <param name="backend">The backend to run on.</param>
/// <param name="call">The arguments.</param>
internal delegate void BackendOperation<TCall>(IComputeBackend backend, ref TCall call)
    where TCall : allows ref struct;

/// <summary>The arguments of a forward rms_norm on host spans.</summary>
internal readonly ref struct ForwardCall<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
    where T : unmanaged
{
    public RmsNormProblem Problem { get; } = problem;

    public ElementType Type { get; } = type;

    public ReadOnlySpan<T> X { get; } = x;

    public ReadOnlySpan<T> W { get; } = w;

    public Span<T> Y { get; } = y;
}

/// <summary>
/// The arguments of a forward rms_norm with any of the extensions: policy, weight offset, bias, fused residual add,
/// strided rows. Validated by the public API; the spans cover the layout's extents.
/// </summary>
internal readonly ref struct ExtendedCall<T>(RmsNormProblem problem, ElementType type, RmsNormExtras extras, ReadOnlySpan<T> x, Span<T> residual, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
    where T : unmanaged
{
    public RmsNormProblem Problem { get; } = problem;

    public ElementType Type { get; } = type;

    public RmsNormExtras Extras { get; } = extras;

    public ReadOnlySpan<T> X { get; } = x;

    /// <summary>Updated in place to (T)(x + residual); empty for no fused add.</summary>
    public Span<T> Residual { get; } = residual;

    public ReadOnlySpan<T> W { get; } = w;

    public ReadOnlySpan<T> B { get; } = b;

    public Span<T> Y { get; } = y;
}
