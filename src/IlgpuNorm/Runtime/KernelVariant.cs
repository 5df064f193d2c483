using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;

namespace IlgpuNorm;

/// <summary>One compiled instance of <see cref="RmsNormKernel"/> for a storage type and a packet width.</summary>
/// <typeparam name="TS">The storage type.</typeparam>
internal abstract class KernelVariant<TS>
    where TS : unmanaged
{
    /// <summary>Elements per packet (1 for the scalar kernel).</summary>
    public abstract int Width { get; }

    /// <summary>Launches on views of elements (reinterpreted as packets; the caller checked the alignment). Views a call does not use may be any view of the right accelerator (never read).</summary>
    public abstract void Launch(AcceleratorStream stream, KernelConfig config, ArrayView<TS> input, ArrayView<TS> residual, ArrayView<TS> weight, ArrayView<TS> bias, ArrayView<TS> output, RmsNormKernelParams parameters);
}

/// <summary>The kernel compiled for a codec and a packet type; compiled once, when constructed.</summary>
internal sealed class KernelVariant<TS, TAcc, TCodec, TPacket>(Accelerator accelerator) : KernelVariant<TS>
    where TS : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<TS, TAcc>
    where TPacket : unmanaged, IPacket<TS>
{
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams> kernel =
        accelerator.LoadKernel<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams>(RmsNormKernel.Run<TS, TAcc, TCodec, TPacket>);

    public override int Width => default(TPacket).Count;

    public override void Launch(AcceleratorStream stream, KernelConfig config, ArrayView<TS> input, ArrayView<TS> residual, ArrayView<TS> weight, ArrayView<TS> bias, ArrayView<TS> output, RmsNormKernelParams parameters) =>
        kernel(stream, config, input.Cast<TPacket>(), residual.Cast<TPacket>(), weight.Cast<TPacket>(), bias.Cast<TPacket>(), output.Cast<TPacket>(), parameters);
}
