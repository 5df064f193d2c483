using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;

namespace IlgpuNorm.Runtime;

/// <summary>One compiled instance of <see cref="RmsNormKernel"/> for a dtype and a packet width; launched on views of any element type of that size.</summary>
internal abstract class KernelVariant
{
    /// <summary>Launches on views of elements (reinterpreted as packets; the caller checked the alignment). Views a call does not use may be any view of the right accelerator (never read).</summary>
    public abstract void Launch<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> input, ArrayView<T> residual, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output, RmsNormKernelParams parameters)
        where T : unmanaged;
}

/// <summary>The kernel compiled for a codec and a packet type; compiled once, when constructed.</summary>
internal sealed class KernelVariant<TS, TAcc, TCodec, TPacket>(Accelerator accelerator) : KernelVariant
    where TS : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<TS, TAcc>
    where TPacket : unmanaged, IPacket<TS, TPacket>
{
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams> kernel =
        accelerator.LoadKernel<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams>(RmsNormKernel.Run<TS, TAcc, TCodec, TPacket>);

    public override void Launch<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> input, ArrayView<T> residual, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output, RmsNormKernelParams parameters) =>
        kernel(stream, config, input.Cast<TPacket>(), residual.Cast<TPacket>(), weight.Cast<TPacket>(), bias.Cast<TPacket>(), output.Cast<TPacket>(), parameters);
}
