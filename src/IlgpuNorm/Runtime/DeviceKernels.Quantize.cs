using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <content>The quantized forward launch.</content>
internal sealed partial class DeviceKernels
{
    /// <summary>Launches a checked quantized rms_norm (inside <see cref="Enter"/>); empty weight or scales mean none.</summary>
    public void Quantize<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, QuantizeSettings settings, ArrayView<T> x, ArrayView<T> w, ArrayView<byte> q, ArrayView<float> scales)
        where T : unmanaged
    {
        switch (type)
        {
            case ElementType.Float32:
                LaunchQuantize(stream, problem, type, settings, Cast<T, float>(x), Cast<T, float>(w), q, scales);
                break;
            case ElementType.Float16:
            case ElementType.BFloat16:
                LaunchQuantize(stream, problem, type, settings, Cast<T, ushort>(x), Cast<T, ushort>(w), q, scales);
                break;
            default:
                LaunchQuantize(stream, problem, type, settings, Cast<T, double>(x), Cast<T, double>(w), q, scales);
                break;
        }
    }

    /// <summary>The kernel of a dtype and format (the variant).</summary>
    private static object LoadQuantize(Accelerator accelerator, ElementType type, int format) => (type, (QuantizeFormat)format) switch
    {
        (ElementType.Float32, QuantizeFormat.Int8) => LoadQuantize<float, CompensatedSingle, Float32QuantCodec, Int8Format>(accelerator),
        (ElementType.Float32, _) => LoadQuantize<float, CompensatedSingle, Float32QuantCodec, Float8E4M3Format>(accelerator),
        (ElementType.Float16, QuantizeFormat.Int8) => LoadQuantize<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Int8Format>(accelerator),
        (ElementType.Float16, _) => LoadQuantize<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Float8E4M3Format>(accelerator),
        (ElementType.BFloat16, QuantizeFormat.Int8) => LoadQuantize<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Int8Format>(accelerator),
        (ElementType.BFloat16, _) => LoadQuantize<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Float8E4M3Format>(accelerator),
        (_, QuantizeFormat.Int8) => LoadQuantize<double, CompensatedSum, Float64QuantCodec, Int8Format>(accelerator),
        _ => LoadQuantize<double, CompensatedSum, Float64QuantCodec, Float8E4M3Format>(accelerator),
    };

    private static Action<AcceleratorStream, KernelConfig, ArrayView<T>, ArrayView<T>, ArrayView<byte>, ArrayView<float>, QuantKernelParams> LoadQuantize<T, TAcc, TCodec, TFormat>(Accelerator accelerator)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IQuantCodec<T, TAcc>
        where TFormat : struct, IQuantFormat =>
        accelerator.LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>(RmsNormQuantKernel.Run<T, TAcc, TCodec, TFormat>);

    private void LaunchQuantize<TS>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, QuantizeSettings settings, ArrayView<TS> x, ArrayView<TS> w, ArrayView<byte> q, ArrayView<float> scales)
        where TS : unmanaged
    {
        var kernel = Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<TS>, ArrayView<TS>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>>(
            KernelOperation.Quantize, type, (int)settings.Format, LoadQuantize);
        int n = problem.SegmentLength;
        bool hasWeight = w.Length != 0;
        bool writeScales = scales.Length != 0;
        foreach (var chunk in new RowChunks(problem))
        {
            long start = chunk.FirstRow * problem.NormalizedLength;
            long length = chunk.Rows * problem.NormalizedLength;
            var plan = LaunchPlan.Create(n, chunk.Segments, Limits);
            var parameters = new QuantKernelParams(n, chunk.Segments, problem.NumGroups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon,
                settings.StaticScale, settings.Clamp, writeScales ? 1 : 0) { WarpShuffle = plan.WarpShuffle };
            var segmentScales = writeScales ? scales.SubView(chunk.FirstRow * problem.NumGroups, chunk.Segments) : StandIn;
            kernel(stream, Config(plan.GridSize, plan), x.SubView(start, length), hasWeight ? w : x, q.SubView(start, length), segmentScales, parameters);
        }
    }
}
