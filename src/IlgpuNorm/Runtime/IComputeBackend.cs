using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>A device that can run a validated problem on host spans.</summary>
internal partial interface IComputeBackend : IDisposable
{
    DeviceInfo Info { get; }

    /// <summary>Runs the problem; writes <paramref name="y"/> only after the whole result exists.</summary>
    void Run<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged;
}
