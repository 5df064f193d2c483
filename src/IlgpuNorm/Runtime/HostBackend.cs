using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using IlgpuNorm.Host;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>The vectorized managed host path: each request goes to the host driver of its operation and dtype.</summary>
internal sealed class HostBackend : IComputeBackend
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

    public void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged => HostForward.Run(request);

    public void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged
    {
        if (request.Settings.Format == QuantizeFormat.Int8)
        {
            Quantize<T, Int8Format>(request);
        }
        else
        {
            Quantize<T, Float8E4M3Format>(request);
        }
    }

    public void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged
    {
        switch (request.Type)
        {
            case ElementType.Float32:
                HostBackward.Run<float, float, Float32Storage, VectorSegment<float, Float32Storage>>(request.Problem, MemoryMarshal.Cast<T, float>(request.Dy), MemoryMarshal.Cast<T, float>(request.X), MemoryMarshal.Cast<T, float>(request.W), request.Rstd, MemoryMarshal.Cast<T, float>(request.Dx), MemoryMarshal.Cast<T, float>(request.Dw));
                break;
            case ElementType.Float16:
                HostBackward.Run<ushort, float, Float16Storage, VectorSegment<ushort, Float16Storage>>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.Dy), MemoryMarshal.Cast<T, ushort>(request.X), MemoryMarshal.Cast<T, ushort>(request.W), request.Rstd, MemoryMarshal.Cast<T, ushort>(request.Dx), MemoryMarshal.Cast<T, ushort>(request.Dw));
                break;
            case ElementType.BFloat16:
                HostBackward.Run<ushort, float, BFloat16Storage, VectorSegment<ushort, BFloat16Storage>>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.Dy), MemoryMarshal.Cast<T, ushort>(request.X), MemoryMarshal.Cast<T, ushort>(request.W), request.Rstd, MemoryMarshal.Cast<T, ushort>(request.Dx), MemoryMarshal.Cast<T, ushort>(request.Dw));
                break;
            default:
                HostBackward.Run<double, double, Float64Storage, CodecSegment<double, double, Float64BackwardCodec>>(request.Problem, MemoryMarshal.Cast<T, double>(request.Dy), MemoryMarshal.Cast<T, double>(request.X), MemoryMarshal.Cast<T, double>(request.W), request.Rstd, MemoryMarshal.Cast<T, double>(request.Dx), MemoryMarshal.Cast<T, double>(request.Dw));
                break;
        }
    }

    public void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged
    {
        switch (request.Type)
        {
            case ElementType.Float32:
                HostBackward.Rstd<float, float, SingleBackwardCodec<float, Float32Format>>(request.Problem, MemoryMarshal.Cast<T, float>(request.X), request.Rstd);
                break;
            case ElementType.Float16:
                HostBackward.Rstd<ushort, float, SingleBackwardCodec<ushort, Float16Format>>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.X), request.Rstd);
                break;
            case ElementType.BFloat16:
                HostBackward.Rstd<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.X), request.Rstd);
                break;
            default:
                HostBackward.Rstd<double, double, Float64BackwardCodec>(request.Problem, MemoryMarshal.Cast<T, double>(request.X), request.Rstd);
                break;
        }
    }

    public void Dispose()
    {
    }

    private static void Quantize<T, TFormat>(scoped in QuantizeRequest<T> request)
        where T : unmanaged
        where TFormat : struct, IQuantFormat
    {
        switch (request.Type)
        {
            case ElementType.Float32:
                HostQuantize.Run<float, Float32Storage, TFormat>(request.Problem, MemoryMarshal.Cast<T, float>(request.X), MemoryMarshal.Cast<T, float>(request.W), request.Q, request.Scales, request.Settings);
                break;
            case ElementType.Float16:
                HostQuantize.Run<ushort, Float16Storage, TFormat>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.X), MemoryMarshal.Cast<T, ushort>(request.W), request.Q, request.Scales, request.Settings);
                break;
            case ElementType.BFloat16:
                HostQuantize.Run<ushort, BFloat16Storage, TFormat>(request.Problem, MemoryMarshal.Cast<T, ushort>(request.X), MemoryMarshal.Cast<T, ushort>(request.W), request.Q, request.Scales, request.Settings);
                break;
            default:
                HostQuantize.RunPerElement<double, CompensatedSum, Float64Codec, TFormat>(request.Problem, MemoryMarshal.Cast<T, double>(request.X), MemoryMarshal.Cast<T, double>(request.W), request.Q, request.Scales, request.Settings);
                break;
        }
    }
}
