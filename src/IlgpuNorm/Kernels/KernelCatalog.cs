using System.Reflection;

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
        Entry("rms_norm", ElementType.Float32, 1, RmsNormKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet1<float>>),
        Entry("rms_norm", ElementType.Float32, 4, RmsNormKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet4<float>>),
        Entry("rms_norm", ElementType.Float16, 1, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Packet1<ushort>>),
        Entry("rms_norm", ElementType.Float16, 8, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, PackedSixteenBit8>),
        Entry("rms_norm", ElementType.BFloat16, 1, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Packet1<ushort>>),
        Entry("rms_norm", ElementType.BFloat16, 8, RmsNormKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, PackedSixteenBit8>),
        Entry("rms_norm", ElementType.Float64, 1, RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet1<double>>),
        Entry("rms_norm", ElementType.Float64, 2, RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet2<double>>),
        Entry("rms_norm_quant_int8", ElementType.Float32, 1, RmsNormQuantKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Int8Format>),
        Entry("rms_norm_quant_fp8", ElementType.Float32, 1, RmsNormQuantKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Float8E4M3Format>),
        Entry("rms_norm_quant_int8", ElementType.Float16, 1, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Int8Format>),
        Entry("rms_norm_quant_fp8", ElementType.Float16, 1, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Float8E4M3Format>),
        Entry("rms_norm_quant_int8", ElementType.BFloat16, 1, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Int8Format>),
        Entry("rms_norm_quant_fp8", ElementType.BFloat16, 1, RmsNormQuantKernel.Run<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Float8E4M3Format>),
        Entry("rms_norm_quant_int8", ElementType.Float64, 1, RmsNormQuantKernel.Run<double, CompensatedSum, Float64Codec, Int8Format>),
        Entry("rms_norm_quant_fp8", ElementType.Float64, 1, RmsNormQuantKernel.Run<double, CompensatedSum, Float64Codec, Float8E4M3Format>),
        Entry("rms_norm_backward", ElementType.Float32, 1, RmsNormBackwardKernel.Rows<float, float, SingleBackwardCodec<float, Float32Format>>),
        Entry("rms_norm_backward", ElementType.Float16, 1, RmsNormBackwardKernel.Rows<ushort, float, SingleBackwardCodec<ushort, Float16Format>>),
        Entry("rms_norm_backward", ElementType.BFloat16, 1, RmsNormBackwardKernel.Rows<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>),
        Entry("rms_norm_backward", ElementType.Float64, 1, RmsNormBackwardKernel.Rows<double, double, Float64BackwardCodec>),
        Entry("rms_norm_backward_dweight", ElementType.Float32, 1, RmsNormBackwardKernel.Columns<float, float, SingleBackwardCodec<float, Float32Format>>, explicitlyGrouped: false),
        Entry("rms_norm_backward_dweight", ElementType.Float16, 1, RmsNormBackwardKernel.Columns<ushort, float, SingleBackwardCodec<ushort, Float16Format>>, explicitlyGrouped: false),
        Entry("rms_norm_backward_dweight", ElementType.BFloat16, 1, RmsNormBackwardKernel.Columns<ushort, float, SingleBackwardCodec<ushort, BFloat16Format>>, explicitlyGrouped: false),
        Entry("rms_norm_backward_dweight", ElementType.Float64, 1, RmsNormBackwardKernel.Columns<double, double, Float64BackwardCodec>, explicitlyGrouped: false),
    ];

    private static (string, ElementType, int, MethodInfo, bool) Entry(string operation, ElementType type, int width, Delegate kernel, bool explicitlyGrouped = true) =>
        (operation, type, width, kernel.Method, explicitlyGrouped);
}
