using System.Reflection;
using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>Every quantized and backward kernel instance IlgpuNorm compiles, for code-generation checks.</summary>
internal static class QuantBackwardKernelCatalog
{
    /// <summary>The explicitly grouped kernels (a name, the dtype and the method).</summary>
    public static IReadOnlyList<(string Name, ElementType Type, MethodInfo Method)> Grouped { get; } =
    [
        ("quant-int8-f32", ElementType.Float32, Quant<float>(RmsNormQuantKernel.Run<float, CompensatedSingle, Float32QuantCodec, Int8Format>)),
        ("quant-fp8-f32", ElementType.Float32, Quant<float>(RmsNormQuantKernel.Run<float, CompensatedSingle, Float32QuantCodec, Float8E4M3Format>)),
        ("quant-int8-f16", ElementType.Float16, Quant<ushort>(RmsNormQuantKernel.Run<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Int8Format>)),
        ("quant-fp8-f16", ElementType.Float16, Quant<ushort>(RmsNormQuantKernel.Run<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Float8E4M3Format>)),
        ("quant-int8-bf16", ElementType.BFloat16, Quant<ushort>(RmsNormQuantKernel.Run<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Int8Format>)),
        ("quant-fp8-bf16", ElementType.BFloat16, Quant<ushort>(RmsNormQuantKernel.Run<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Float8E4M3Format>)),
        ("quant-int8-f64", ElementType.Float64, Quant<double>(RmsNormQuantKernel.Run<double, CompensatedSum, Float64QuantCodec, Int8Format>)),
        ("quant-fp8-f64", ElementType.Float64, Quant<double>(RmsNormQuantKernel.Run<double, CompensatedSum, Float64QuantCodec, Float8E4M3Format>)),
        ("backward-f32", ElementType.Float32, Rows<float, float>(RmsNormBackwardKernel.Rows<float, float, Float32BackwardCodec>)),
        ("backward-f16", ElementType.Float16, Rows<ushort, float>(RmsNormBackwardKernel.Rows<ushort, float, SixteenBitBackwardCodec<Float16Format>>)),
        ("backward-bf16", ElementType.BFloat16, Rows<ushort, float>(RmsNormBackwardKernel.Rows<ushort, float, SixteenBitBackwardCodec<BFloat16Format>>)),
        ("backward-f64", ElementType.Float64, Rows<double, double>(RmsNormBackwardKernel.Rows<double, double, Float64BackwardCodec>)),
    ];

    /// <summary>The implicitly grouped dweight column reductions.</summary>
    public static IReadOnlyList<(string Name, ElementType Type, MethodInfo Method)> Columns { get; } =
    [
        ("columns-f32", ElementType.Float32, Column<float, float>(RmsNormBackwardKernel.Columns<float, float, Float32BackwardCodec>)),
        ("columns-f16", ElementType.Float16, Column<ushort, float>(RmsNormBackwardKernel.Columns<ushort, float, SixteenBitBackwardCodec<Float16Format>>)),
        ("columns-bf16", ElementType.BFloat16, Column<ushort, float>(RmsNormBackwardKernel.Columns<ushort, float, SixteenBitBackwardCodec<BFloat16Format>>)),
        ("columns-f64", ElementType.Float64, Column<double, double>(RmsNormBackwardKernel.Columns<double, double, Float64BackwardCodec>)),
    ];

    private static MethodInfo Quant<T>(Action<ArrayView<T>, ArrayView<T>, ArrayView<byte>, ArrayView<float>, QuantKernelParams> kernel)
        where T : unmanaged => kernel.Method;

    private static MethodInfo Rows<T, TF>(Action<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<float>, ArrayView<T>, ArrayView<TF>, BackwardKernelParams> kernel)
        where T : unmanaged
        where TF : unmanaged => kernel.Method;

    private static MethodInfo Column<T, TF>(Action<Index1D, ArrayView<TF>, ArrayView<T>, int, int> kernel)
        where T : unmanaged
        where TF : unmanaged => kernel.Method;
}
