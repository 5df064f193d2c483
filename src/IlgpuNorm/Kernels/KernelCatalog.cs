using System.Reflection;
using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>Every kernel instance IlgpuNorm compiles, by operation, dtype and packet width, for code dumps and code-generation checks.</summary>
internal static class KernelCatalog
{
    /// <summary>
    /// The forward kernels (operation <c>rms_norm</c>, one per dtype and packet width), the quantized ones
    /// (<c>rms_norm_quant_int8</c>, <c>rms_norm_quant_fp8</c>), the backward rows (<c>rms_norm_backward</c>) and the
    /// dweight column sums (<c>rms_norm_backward_dweight</c>, the only implicitly grouped kernel).
    /// </summary>
    public static IReadOnlyList<(string Operation, ElementType Type, int Width, MethodInfo Method, bool ExplicitlyGrouped)> EveryOperation { get; } =
    [
        Forward<Packet1<float>>(ElementType.Float32, 1, RmsNormKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet1<float>>),
        Forward<Packet4<float>>(ElementType.Float32, 4, RmsNormKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet4<float>>),
        Forward<Packet1<ushort>>(ElementType.Float16, 1, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Packet1<ushort>>),
        Forward<PackedSixteenBit8>(ElementType.Float16, 8, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, PackedSixteenBit8>),
        Forward<Packet1<ushort>>(ElementType.BFloat16, 1, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Packet1<ushort>>),
        Forward<PackedSixteenBit8>(ElementType.BFloat16, 8, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, PackedSixteenBit8>),
        Forward<Packet1<double>>(ElementType.Float64, 1, RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet1<double>>),
        Forward<Packet2<double>>(ElementType.Float64, 2, RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet2<double>>),
        Quant<float>("int8", ElementType.Float32, RmsNormQuantKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Int8Format>),
        Quant<float>("fp8", ElementType.Float32, RmsNormQuantKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Float8E4M3Format>),
        Quant<ushort>("int8", ElementType.Float16, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Int8Format>),
        Quant<ushort>("fp8", ElementType.Float16, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Float8E4M3Format>),
        Quant<ushort>("int8", ElementType.BFloat16, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Int8Format>),
        Quant<ushort>("fp8", ElementType.BFloat16, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Float8E4M3Format>),
        Quant<double>("int8", ElementType.Float64, RmsNormQuantKernel.Run<double, CompensatedSum, Float64Codec, Int8Format>),
        Quant<double>("fp8", ElementType.Float64, RmsNormQuantKernel.Run<double, CompensatedSum, Float64Codec, Float8E4M3Format>),
        Rows<float, float>(ElementType.Float32, RmsNormBackwardKernel.Rows<float, float, SingleBackwardCodec<float, Float32Format>>),
        Rows<ushort, float>(ElementType.Float16, RmsNormBackwardKernel.Rows<ushort, float, SingleBackwardCodec<ushort, Float16Format>>),
        Rows<ushort, float>(ElementType.BFloat16, RmsNormBackwardKernel.Rows<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>),
        Rows<double, double>(ElementType.Float64, RmsNormBackwardKernel.Rows<double, double, Float64BackwardCodec>),
        Columns<float, float>(ElementType.Float32, RmsNormBackwardKernel.Columns<float, float, SingleBackwardCodec<float, Float32Format>>),
        Columns<ushort, float>(ElementType.Float16, RmsNormBackwardKernel.Columns<ushort, float, SingleBackwardCodec<ushort, Float16Format>>),
        Columns<ushort, float>(ElementType.BFloat16, RmsNormBackwardKernel.Columns<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>),
        Columns<double, double>(ElementType.Float64, RmsNormBackwardKernel.Columns<double, double, Float64BackwardCodec>),
    ];

    private static (string, ElementType, int, MethodInfo, bool) Forward<TPacket>(ElementType type, int width, Action<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams> kernel)
        where TPacket : unmanaged => ("rms_norm", type, width, kernel.Method, true);

    private static (string, ElementType, int, MethodInfo, bool) Quant<T>(string format, ElementType type, Action<ArrayView<T>, ArrayView<T>, ArrayView<byte>, ArrayView<float>, QuantKernelParams> kernel)
        where T : unmanaged => ("rms_norm_quant_" + format, type, 1, kernel.Method, true);

    private static (string, ElementType, int, MethodInfo, bool) Rows<T, TF>(ElementType type, Action<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<float>, ArrayView<T>, ArrayView<TF>, BackwardKernelParams> kernel)
        where T : unmanaged
        where TF : unmanaged => ("rms_norm_backward", type, 1, kernel.Method, true);

    private static (string, ElementType, int, MethodInfo, bool) Columns<T, TF>(ElementType type, Action<Index1D, ArrayView<TF>, ArrayView<T>, int, int> kernel)
        where T : unmanaged
        where TF : unmanaged => ("rms_norm_backward_dweight", type, 1, kernel.Method, false);
}
