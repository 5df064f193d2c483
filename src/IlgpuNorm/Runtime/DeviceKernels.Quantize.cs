using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>One compiled instance of <see cref="RmsNormQuantKernel"/> for a dtype and a format; launched on views of any element type of that size.</summary>
internal abstract class QuantizeKernel
{
    public abstract void Launch<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> x, ArrayView<T> w, ArrayView<byte> q, ArrayView<float> scales, QuantKernelParams parameters)
        where T : unmanaged;
}

/// <summary>The quantized kernel compiled for a codec and a format; compiled once, when constructed.</summary>
internal sealed class QuantizeKernel<TS, TAcc, TCodec, TFormat>(Accelerator accelerator) : QuantizeKernel
    where TS : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IQuantCodec<TS, TAcc>
    where TFormat : struct, IQuantFormat
{
    private readonly Action<AcceleratorStream, KernelConfig, ArrayView<TS>, ArrayView<TS>, ArrayView<byte>, ArrayView<float>, QuantKernelParams> kernel =
        accelerator.LoadKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>(RmsNormQuantKernel.Run<TS, TAcc, TCodec, TFormat>);

    public override void Launch<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> x, ArrayView<T> w, ArrayView<byte> q, ArrayView<float> scales, QuantKernelParams parameters) =>
        kernel(stream, config, x.Cast<TS>(), w.Cast<TS>(), q, scales, parameters);
}

/// <content>The quantized forward launch.</content>
internal sealed partial class DeviceKernels
{
    /// <summary>Launches a checked quantized rms_norm (inside <see cref="Enter"/>); empty weight or scales mean none.</summary>
    public void Quantize<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, QuantizeSettings settings, ArrayView<T> x, ArrayView<T> w, ArrayView<byte> q, ArrayView<float> scales)
        where T : unmanaged
    {
        var kernel = Kernel<QuantizeKernel>(KernelOperation.Quantize, type, (int)settings.Format);
        int n = problem.SegmentLength;
        int length = problem.NormalizedLength;
        bool hasWeight = w.Length != 0;
        bool writeScales = scales.Length != 0;
        foreach (var chunk in new RowChunks(problem))
        {
            var plan = LaunchPlan.Create(n, chunk.Segments, Limits);
            var parameters = new QuantKernelParams(n, chunk.Segments, problem.NumGroups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon,
                settings.StaticScale, settings.Clamp, writeScales ? 1 : 0) { WarpShuffle = plan.WarpShuffle };
            var segmentScales = writeScales ? scales.SubView(chunk.FirstRow * problem.NumGroups, chunk.Segments) : StandIn;
            kernel.Launch(stream, Config(plan.GridSize, plan), chunk.Of(x, length, length), hasWeight ? w : x, chunk.Of(q, length, length), segmentScales, parameters);
        }
    }

    /// <summary>The kernel of a dtype and format (the variant).</summary>
    private object LoadQuantize(ElementType type, int format) => (type, (QuantizeFormat)format) switch
    {
        (ElementType.Float32, QuantizeFormat.Int8) => new QuantizeKernel<float, CompensatedSingle, SingleCodec<float, Float32Format>, Int8Format>(Accelerator),
        (ElementType.Float32, _) => new QuantizeKernel<float, CompensatedSingle, SingleCodec<float, Float32Format>, Float8E4M3Format>(Accelerator),
        (ElementType.Float16, QuantizeFormat.Int8) => new QuantizeKernel<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Int8Format>(Accelerator),
        (ElementType.Float16, _) => new QuantizeKernel<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Float8E4M3Format>(Accelerator),
        (ElementType.BFloat16, QuantizeFormat.Int8) => new QuantizeKernel<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Int8Format>(Accelerator),
        (ElementType.BFloat16, _) => new QuantizeKernel<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Float8E4M3Format>(Accelerator),
        (_, QuantizeFormat.Int8) => new QuantizeKernel<double, CompensatedSum, Float64Codec, Int8Format>(Accelerator),
        _ => new QuantizeKernel<double, CompensatedSum, Float64Codec, Float8E4M3Format>(Accelerator),
    };
}
