using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>A compiled <see cref="RmsNormQuantKernel"/> of a dtype and format, launched on x and w as bytes.</summary>
internal delegate void QuantizeKernel(AcceleratorStream stream, KernelConfig config, ArrayView<byte> x, ArrayView<byte> w, ArrayView<byte> q, ArrayView<float> scales, QuantKernelParams parameters);

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
            kernel(stream, new KernelConfig(plan.GridSize, plan.GroupSize), chunk.Of(x, length, length), (hasWeight ? w : x).Cast<byte>(), chunk.Of(q, length, length), segmentScales, parameters);
        }
    }

    private object LoadQuantize(ElementType type, int format) => (type, (QuantizeFormat)format) switch
    {
        (ElementType.Float32, QuantizeFormat.Int8) => LoadQuantize<float, CompensatedSingle, SingleCodec<float, Float32Format>, Int8Format>(),
        (ElementType.Float32, _) => LoadQuantize<float, CompensatedSingle, SingleCodec<float, Float32Format>, Float8E4M3Format>(),
        (ElementType.Float16, QuantizeFormat.Int8) => LoadQuantize<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Int8Format>(),
        (ElementType.Float16, _) => LoadQuantize<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Float8E4M3Format>(),
        (ElementType.BFloat16, QuantizeFormat.Int8) => LoadQuantize<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Int8Format>(),
        (ElementType.BFloat16, _) => LoadQuantize<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Float8E4M3Format>(),
        (_, QuantizeFormat.Int8) => LoadQuantize<double, CompensatedSum, Float64Codec, Int8Format>(),
        _ => LoadQuantize<double, CompensatedSum, Float64Codec, Float8E4M3Format>(),
    };

    private QuantizeKernel LoadQuantize<TS, TAcc, TCodec, TFormat>()
        where TS : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<TS, TAcc>
        where TFormat : struct, IQuantFormat
    {
        var kernel = Accelerator.LoadKernel<ArrayView<TS>, ArrayView<TS>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>(RmsNormQuantKernel.Run<TS, TAcc, TCodec, TFormat>);
        return (stream, config, x, w, q, scales, p) => kernel(stream, config, x.Cast<TS>(), w.Cast<TS>(), q, scales, p);
    }
}
