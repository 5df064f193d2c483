using System.Runtime.InteropServices;
using IlgpuNorm.Host;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The rms_norm backward pass and its saved statistic on the host.</summary>
internal sealed partial class HostBackend
{
    public void RunBackward<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
    {
        switch (type)
        {
            case ElementType.Float32:
                HostBackwardSingle.Run<float, SingleStorage>(problem, Cast<T, float>(dy), Cast<T, float>(x), Cast<T, float>(w), rstd, MemoryMarshal.Cast<T, float>(dx), MemoryMarshal.Cast<T, float>(dw));
                break;
            case ElementType.Float16:
                HostBackwardSingle.Run<ushort, HalfStorage>(problem, Cast<T, ushort>(dy), Cast<T, ushort>(x), Cast<T, ushort>(w), rstd, MemoryMarshal.Cast<T, ushort>(dx), MemoryMarshal.Cast<T, ushort>(dw));
                break;
            case ElementType.BFloat16:
                HostBackwardSingle.Run<ushort, BFloat16Storage>(problem, Cast<T, ushort>(dy), Cast<T, ushort>(x), Cast<T, ushort>(w), rstd, MemoryMarshal.Cast<T, ushort>(dx), MemoryMarshal.Cast<T, ushort>(dw));
                break;
            default:
                HostBackward.Run<double, double, Float64BackwardCodec>(problem, Cast<T, double>(dy), Cast<T, double>(x), Cast<T, double>(w), rstd, MemoryMarshal.Cast<T, double>(dx), MemoryMarshal.Cast<T, double>(dw));
                break;
        }
    }

    public void RunRstd<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged
    {
        switch (type)
        {
            case ElementType.Float32:
                HostBackward.Rstd<float, float, Float32BackwardCodec>(problem, Cast<T, float>(x), rstd);
                break;
            case ElementType.Float16:
                HostBackward.Rstd<ushort, float, SixteenBitBackwardCodec<Float16Format>>(problem, Cast<T, ushort>(x), rstd);
                break;
            case ElementType.BFloat16:
                HostBackward.Rstd<ushort, float, SixteenBitBackwardCodec<BFloat16Format>>(problem, Cast<T, ushort>(x), rstd);
                break;
            default:
                HostBackward.Rstd<double, double, Float64BackwardCodec>(problem, Cast<T, double>(x), rstd);
                break;
        }
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> span)
        where TFrom : unmanaged
        where TTo : unmanaged => MemoryMarshal.Cast<TFrom, TTo>(span);
}
