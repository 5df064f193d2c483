using System.Runtime.InteropServices;
using IlgpuNorm.Host;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The quantized rms_norm on the host.</summary>
internal sealed partial class HostBackend
{
    public void RunQuantized<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
    {
        if (settings.Format == QuantizeFormat.Int8)
        {
            Quantize<T, Int8Format>(problem, type, x, w, q, scales, settings);
        }
        else
        {
            Quantize<T, Float8E4M3Format>(problem, type, x, w, q, scales, settings);
        }
    }

    private static void Quantize<T, TFormat>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
        where TFormat : struct, IQuantFormat
    {
        switch (type)
        {
            case ElementType.Float32:
                HostQuantizeSingle.Run<float, SingleStorage, TFormat>(
                    problem, MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(w), q, scales, settings);
                break;
            case ElementType.Float16:
                HostQuantizeSingle.Run<ushort, HalfStorage, TFormat>(
                    problem, MemoryMarshal.Cast<T, ushort>(x), MemoryMarshal.Cast<T, ushort>(w), q, scales, settings);
                break;
            case ElementType.BFloat16:
                HostQuantizeSingle.Run<ushort, BFloat16Storage, TFormat>(
                    problem, MemoryMarshal.Cast<T, ushort>(x), MemoryMarshal.Cast<T, ushort>(w), q, scales, settings);
                break;
            default:
                HostQuantize.Run<double, CompensatedSum, Float64QuantCodec, TFormat>(
                    problem, MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(w), q, scales, settings);
                break;
        }
    }
}
