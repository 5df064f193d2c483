using System.Reflection;
using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>Every kernel instance IlgpuNorm compiles, by dtype and packet width, for code dumps and code-generation checks.</summary>
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

    private static MethodInfo Of<TPacket>(Action<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams> kernel)
        where TPacket : unmanaged => kernel.Method;
}
