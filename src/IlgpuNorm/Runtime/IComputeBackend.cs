using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>A device that can run a validated problem on host spans.</summary>
internal partial interface IComputeBackend : IDisposable
{
    DeviceInfo Info { get; }

    /// <summary>Runs the problem; writes <paramref name="y"/> only after the whole result exists.</summary>
    void Run<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged;

    /// <summary>
    /// Runs a problem with a policy, weight offset, bias, fused residual add or strided rows. Writes <paramref name="call"/>'s
    /// destination (and residual) only after the whole result exists, and never the elements between strided rows.
    /// </summary>
    /// <exception cref="NotSupportedException">The backend does not implement it (the default).</exception>
    void RunExtended<T>(scoped in ExtendedCall<T> call)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info} does not run the extended rms_norm (policy, offset, bias, residual, strides).");
}
