using System.Reflection;
using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>Every kernel instance IlgpuNorm compiles, by operation, dtype and packet width, for code dumps and code-generation checks.</summary>
internal static class KernelCatalog
{
    public static IReadOnlyList<(ElementType Type, int Width, MethodInfo Method)> All { get; } =
    [
        (ElementType.Float32, 1, Of<Packet1<float>>(RmsNormKernel.Run<float, CompensatedSingle, Float32Codec, Packet1<float>>)),
        (ElementType.Float32, 4, Of<Packet4<float>>(RmsNormKernel.Run<float, CompensatedSingle, Float32Codec, Packet4<float>>)),
        (ElementType.Float16, 1, Of<Packet1<ushort>>(RmsNormKernel.Run<ushort, CompensatedSingle, SixteenBitCodec<Float16Format>, Packet1<ushort>>)),
        (ElementType.Float16, 8, Of<PackedSixteenBit8>(RmsNormKernel.Run<ushort, CompensatedSingle, SixteenBitCodec<Float16Format>, PackedSixteenBit8>)),
        (ElementType.BFloat16, 1, Of<Packet1<ushort>>(RmsNormKernel.Run<ushort, CompensatedSingle, SixteenBitCodec<BFloat16Format>, Packet1<ushort>>)),
        (ElementType.BFloat16, 8, Of<PackedSixteenBit8>(RmsNormKernel.Run<ushort, CompensatedSingle, SixteenBitCodec<BFloat16Format>, PackedSixteenBit8>)),
        (ElementType.Float64, 1, Of<Packet1<double>>(RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet1<double>>)),
        (ElementType.Float64, 2, Of<Packet2<double>>(RmsNormKernel.Run<double, CompensatedSum, Float64Codec, Packet2<double>>)),
    ];

    /// <summary>
    /// Every kernel of every operation: the forward kernels of <see cref="All"/> (operation <c>rms_norm</c>), the quantized
    /// ones (<c>rms_norm_quant_int8</c>, <c>rms_norm_quant_fp8</c>), the backward rows (<c>rms_norm_backward</c>) and the
    /// dweight column sums (<c>rms_norm_backward_dweight</c>, the only implicitly grouped kernel).
    /// </summary>
    public static IReadOnlyList<(string Operation, ElementType Type, int Width, MethodInfo Method, bool ExplicitlyGrouped)> EveryOperation { get; } =
    [
        .. All.Select(k => ("rms_norm", k.Type, k.Width, k.Method, true)),
        .. QuantBackwardKernelCatalog.Grouped.Select(k => (Operation(k.Name), k.Type, 1, k.Method, true)),
        .. QuantBackwardKernelCatalog.Columns.Select(k => (Operation(k.Name), k.Type, 1, k.Method, false)),
    ];

    /// <summary>"quant-int8-f32" → rms_norm_quant_int8, "backward-f16" → rms_norm_backward, "columns-f64" → rms_norm_backward_dweight.</summary>
    private static string Operation(string catalogName) => catalogName.Split('-') switch
    {
        ["quant", var format, _] => "rms_norm_quant_" + format,
        ["backward", _] => "rms_norm_backward",
        ["columns", _] => "rms_norm_backward_dweight",
        _ => throw new ArgumentException($"Unknown kernel name {catalogName}.", nameof(catalogName)),
    };

    private static MethodInfo Of<TPacket>(Action<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams> kernel)
        where TPacket : unmanaged => kernel.Method;
}
