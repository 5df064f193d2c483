using System.Reflection;
using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>Every kernel instance IlgpuNorm compiles, by dtype, for code dumps and code-generation checks.</summary>
internal static class KernelCatalog
{
    public static IReadOnlyList<(ElementType Type, MethodInfo Method)> All { get; } =
    [
        (ElementType.Float32, Of<float>(RmsNormKernel.Run<float, float, Float32Codec>)),
        (ElementType.Float16, Of<ushort>(RmsNormKernel.Run<ushort, float, SixteenBitCodec<Float16Format>>)),
        (ElementType.BFloat16, Of<ushort>(RmsNormKernel.Run<ushort, float, SixteenBitCodec<BFloat16Format>>)),
        (ElementType.Float64, Of<double>(RmsNormKernel.Run<double, CompensatedSum, Float64Codec>)),
    ];

    private static MethodInfo Of<T>(Action<ArrayView<T>, ArrayView<T>, ArrayView<T>, RmsNormKernelParams> kernel)
        where T : unmanaged => kernel.Method;
}
