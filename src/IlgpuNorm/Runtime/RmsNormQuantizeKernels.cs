using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// The quantized rms_norm (<see cref="RmsNormQuantized"/>) on data that lives on an ILGPU accelerator. One instance per
/// accelerator: each (dtype, format) kernel is compiled once, on first use or by <see cref="Preload"/>, and kept.
/// </summary>
/// <remarks>
/// <para>The instance does not own the accelerator: dispose the accelerator after this object.</para>
/// <para>Thread safety: calls are serialized by a lock and bind the accelerator to the calling thread. Launches are
/// asynchronous on the given stream (or the default stream): synchronize it before reading the results.</para>
/// </remarks>
public sealed class RmsNormQuantizeKernels : IDisposable
{
    private delegate void QuantKernel<T>(AcceleratorStream stream, KernelConfig config, ArrayView<T> input, ArrayView<T> weight, ArrayView<byte> output, ArrayView<float> scales, QuantKernelParams p)
        where T : unmanaged;

    private readonly Lock gate = new();
    private readonly DeviceLimits limits;
    private readonly Dictionary<(ElementType, QuantizeFormat), Delegate> cache = [];
    private MemoryBuffer1D<float, Stride1D.Dense>? noScales;
    private bool disposed;

    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormQuantizeKernels(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        limits = AcceleratorLimits.Of(accelerator);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Compiles the kernels of every dtype and format now.</summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Preload()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            foreach (var format in new[] { QuantizeFormat.Int8, QuantizeFormat.Float8E4M3 })
            {
                _ = Kernel<float>(ElementType.Float32, format);
                _ = Kernel<ushort>(ElementType.Float16, format);
                _ = Kernel<ushort>(ElementType.BFloat16, format);
                _ = Kernel<double>(ElementType.Float64, format);
            }
        }
    }

    /// <summary>Computes rms_norm quantized to 8 bits on device-resident data (see <see cref="RmsNormQuantized"/> for the numerics).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight of shape <paramref name="normalizedShape"/>, or an empty view for none.</param>
    /// <param name="output">Receives one byte per element (int8 two's complement, or FP8 E4M3FN).</param>
    /// <param name="scales">Receives one float32 scale per segment (rows × num_groups); may be empty with a static scale.</param>
    /// <param name="quantize">The format, scale and clamp.</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="quantize"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps, num_groups, the scale or the clamp is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<byte> output,
        ArrayView<float> scales,
        QuantizeOptions quantize,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(quantize);
        quantize.Validate(nameof(quantize));
        var type = ElementTypes.Require<T>(nameof(input));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        DeviceViews.RequireOn(Accelerator, input, nameof(input));
        DeviceViews.RequireOn(Accelerator, output, nameof(output));
        DeviceViews.RequireOn(Accelerator, scales, nameof(scales));
        DeviceViews.RequireLength(input.Length, problem.TotalElements, nameof(input), exact: true);
        DeviceViews.RequireLength(output.Length, problem.TotalElements, nameof(output), exact: false);
        if (quantize.StaticScale is null || scales.Length != 0)
        {
            DeviceViews.RequireLength(scales.Length, problem.Segments, nameof(scales), exact: false);
        }

        bool hasWeight = weight.Length != 0;
        if (hasWeight)
        {
            DeviceViews.RequireOn(Accelerator, weight, nameof(weight));
            DeviceViews.RequireLength(weight.Length, problem.NormalizedLength, nameof(weight), exact: true);
        }

        if (problem.TotalElements == 0)
        {
            return;
        }

        var settings = QuantizeSettings.From(quantize);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            var s = stream ?? Accelerator.DefaultStream;
            var w = hasWeight ? weight : input;
            switch (type)
            {
                case ElementType.Float32:
                    Launch(s, Kernel<float>(type, settings.Format), problem, hasWeight, input.Cast<float>(), w.Cast<float>(), output, scales, settings);
                    break;
                case ElementType.Float16:
                case ElementType.BFloat16:
                    Launch(s, Kernel<ushort>(type, settings.Format), problem, hasWeight, input.Cast<ushort>(), w.Cast<ushort>(), output, scales, settings);
                    break;
                default:
                    Launch(s, Kernel<double>(type, settings.Format), problem, hasWeight, input.Cast<double>(), w.Cast<double>(), output, scales, settings);
                    break;
            }
        }
    }

    /// <summary>Releases the launchers. Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            cache.Clear();
            noScales?.Dispose();
            noScales = null;
        }
    }

    private void Launch<TS>(AcceleratorStream stream, QuantKernel<TS> kernel, RmsNormProblem problem, bool hasWeight, ArrayView<TS> input, ArrayView<TS> weight, ArrayView<byte> output, ArrayView<float> scales, QuantizeSettings settings)
        where TS : unmanaged
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        bool writeScales = scales.Length != 0;
        long rowsPerLaunch = Math.Max(1, (int.MaxValue - 1024) / groups);
        for (long row = 0; row < problem.Rows; row += rowsPerLaunch)
        {
            long rows = Math.Min(rowsPerLaunch, problem.Rows - row);
            int segments = (int)(rows * groups);
            long start = row * problem.NormalizedLength;
            long length = rows * problem.NormalizedLength;
            var plan = LaunchPlan.Create(n, segments, limits);
            var config = new KernelConfig(new Index1D(plan.GridSize), new Index1D(plan.GroupSize));
            var p = new QuantKernelParams(n, segments, groups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon,
                settings.StaticScale, settings.Clamp, writeScales ? 1 : 0) { WarpShuffle = plan.WarpShuffle };
            // A one-element stand-in when no scales are written: some drivers reject a null buffer argument.
            var scaleView = writeScales ? scales.SubView(row * groups, segments) : (noScales ??= Accelerator.Allocate1D<float>(1)).View.BaseView;
            kernel(stream, config, input.SubView(start, length), weight, output.SubView(start, length), scaleView, p);
        }
    }

    private QuantKernel<TS> Kernel<TS>(ElementType type, QuantizeFormat format)
        where TS : unmanaged
    {
        if (!cache.TryGetValue((type, format), out var kernel))
        {
            kernel = (type, format) switch
            {
                (ElementType.Float32, QuantizeFormat.Int8) => Load<float, CompensatedSingle, Float32QuantCodec, Int8Format>(),
                (ElementType.Float32, _) => Load<float, CompensatedSingle, Float32QuantCodec, Float8E4M3Format>(),
                (ElementType.Float16, QuantizeFormat.Int8) => Load<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Int8Format>(),
                (ElementType.Float16, _) => Load<ushort, CompensatedSingle, SixteenBitQuantCodec<Float16Format>, Float8E4M3Format>(),
                (ElementType.BFloat16, QuantizeFormat.Int8) => Load<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Int8Format>(),
                (ElementType.BFloat16, _) => Load<ushort, CompensatedSingle, SixteenBitQuantCodec<BFloat16Format>, Float8E4M3Format>(),
                (_, QuantizeFormat.Int8) => Load<double, CompensatedSum, Float64QuantCodec, Int8Format>(),
                _ => Load<double, CompensatedSum, Float64QuantCodec, Float8E4M3Format>(),
            };
            cache[(type, format)] = kernel;
        }

        return (QuantKernel<TS>)kernel;
    }

    private QuantKernel<T> Load<T, TAcc, TCodec, TFormat>()
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IQuantCodec<T, TAcc>
        where TFormat : struct, IQuantFormat
    {
        var action = Accelerator.LoadKernel<ArrayView<T>, ArrayView<T>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>(
            RmsNormQuantKernel.Run<T, TAcc, TCodec, TFormat>);
        return (stream, config, input, weight, output, scales, p) => action(stream, config, input, weight, output, scales, p);
    }
}
