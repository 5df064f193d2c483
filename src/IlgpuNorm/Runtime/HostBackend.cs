using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using IlgpuNorm.Host;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The vectorized managed host path.</summary>
internal sealed partial class HostBackend : IComputeBackend
{
    public static readonly DeviceInfo Description = new(
        DeviceKind.Host,
        0,
        $"Host SIMD ({Environment.ProcessorCount} threads, {(Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar")})",
        IsGpu: false,
        MemoryBytes: GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        MaxGroupSize: 0,
        WarpSize: Vector256.IsHardwareAccelerated ? Vector256<float>.Count : 1,
        SupportsFloat16: true,
        Detail: "always present");

    public DeviceInfo Info => Description;

    public void Run<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged
    {
        switch (type)
        {
            case ElementType.Float32:
                HostRmsNorm.Run(problem, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(w), MemoryMarshal.Cast<T, float>(y));
                break;
            case ElementType.Float16:
                HostRmsNorm.Run(problem, MemoryMarshal.Cast<T, Half>(x), MemoryMarshal.Cast<T, Half>(w), MemoryMarshal.Cast<T, Half>(y));
                break;
            case ElementType.BFloat16:
                HostRmsNorm.Run(problem, MemoryMarshal.Cast<T, BFloat16>(x), MemoryMarshal.Cast<T, BFloat16>(w), MemoryMarshal.Cast<T, BFloat16>(y));
                break;
            default:
                HostRmsNorm.Run(problem, MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(w), MemoryMarshal.Cast<T, double>(y));
                break;
        }
    }

    public void RunExtended<T>(scoped in ExtendedCall<T> call)
        where T : unmanaged => HostExtendedRmsNorm.Run(call);

    public void Dispose()
    {
    }
}
