using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm.Tests.Support;

/// <summary>The plain forward request the dispatcher and backend tests send: contiguous rows, no residual, bias, policy or offset.</summary>
internal static class BackendCalls
{
    /// <summary>A plain forward request over the problem's extents.</summary>
    public static ForwardRequest<T> Plain<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged
    {
        int n = problem.NormalizedLength;
        int total = (int)problem.TotalElements;
        return new(problem, type, new RmsNormExtras(RmsNormPolicy.TensorRtLlm, 0f, n, n, n), x[..total], default, w, default, y[..total]);
    }

    /// <summary>Runs a plain forward through the dispatcher (with its fallback), as <see cref="RmsNorm"/> does.</summary>
    public static void Execute<T>(this DeviceDispatcher dispatcher, DeviceRequest? request, RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged
    {
        var call = Plain(problem, type, x, w, y);
        dispatcher.Execute(request, ref call, static (IComputeBackend backend, ref ForwardRequest<T> c) => backend.Forward(c));
    }

    /// <summary>Runs a plain forward on one backend.</summary>
    public static void Forward<T>(this IComputeBackend backend, RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged => backend.Forward(Plain(problem, type, x, w, y));
}
