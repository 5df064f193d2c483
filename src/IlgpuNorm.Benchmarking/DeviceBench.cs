using ILGPU.Runtime;

namespace IlgpuNorm.Benchmarking;

/// <summary>
/// Measures an ILGPU device kernel-only: x, w and y live on the device, and each timed call is
/// <see cref="RmsNormKernels.Compute{T}"/> plus a stream synchronize. The copy limit is a device-to-device
/// <c>ArrayView.CopyTo</c> of x into y on the same stream, synchronized the same way.
/// </summary>
public static class DeviceBench
{
    /// <summary>Measures one dtype and shape.</summary>
    /// <param name="device">The device, for the report.</param>
    /// <param name="kernels">The device's kernels (the dispatcher's: compiled once per process).</param>
    /// <param name="type">The dtype.</param>
    /// <param name="shape">The shape.</param>
    /// <param name="minTime">The least time of each measurement, in seconds.</param>
    /// <param name="copies">Copy limits already measured on this device, by bytes per call; a missing one is measured and added.</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="InvalidOperationException">The output differs from the reference.</exception>
    public static BenchResult Run(DeviceInfo device, RmsNormKernels kernels, ElementType type, BenchShape shape, double minTime, Dictionary<long, CopyMeasurement> copies) => type switch
    {
        ElementType.Float32 => Run<float>(device, kernels, type, shape, minTime, copies),
        ElementType.Float16 => Run<Half>(device, kernels, type, shape, minTime, copies),
        ElementType.BFloat16 => Run<BFloat16>(device, kernels, type, shape, minTime, copies),
        _ => Run<double>(device, kernels, type, shape, minTime, copies),
    };

    private static unsafe BenchResult Run<T>(DeviceInfo device, RmsNormKernels kernels, ElementType type, BenchShape shape, double minTime, Dictionary<long, CopyMeasurement> copies)
        where T : unmanaged
    {
        int length = checked((int)shape.Elements);
        long copyBytes = 2L * length * sizeof(T);
        var random = new Random(BenchData.SeedOf(type, shape));
        T[] w = new T[shape.Hidden];
        T[] x = new T[length];
        BenchData.FillWeight<T>(w, random);
        BenchData.FillInput<T>(x, random);

        var accelerator = kernels.Accelerator;
        accelerator.Bind(); // CUDA contexts are per thread: allocations and copies below run on this one
        using var xd = accelerator.Allocate1D(x);
        using var wd = accelerator.Allocate1D(w);
        using var yd = accelerator.Allocate1D<T>(length);
        var stream = accelerator.DefaultStream;
        if (!copies.TryGetValue(copyBytes, out var copy))
        {
            var copyTiming = Timing.Measure(
                _ =>
                {
                    xd.View.CopyTo(stream, yd.View);
                    stream.Synchronize();
                },
                1,
                minTime);
            copy = new CopyMeasurement(copyBytes / copyTiming.MedianSeconds / 1e9, "ArrayView.CopyTo on the device");
            copies[copyBytes] = copy;
        }

        int[] dims = [shape.Rows, shape.Hidden];
        int[] normalized = [shape.Hidden];
        var timing = Timing.Measure(
            _ =>
            {
                kernels.Compute(xd.View.BaseView, dims, normalized, wd.View.BaseView, yd.View.BaseView, RmsNormOptions.DefaultEpsilon, 1, stream);
                stream.Synchronize();
            },
            1,
            minTime);

        BenchData.CheckFirstAndLastRows<T>(x, w, yd.GetAsArray1D(), shape);

        return new BenchResult
        {
            Backend = device.Request.ToString(),
            Device = device.Name,
            Type = type,
            Shape = shape,
            Data = "device",
            BufferSets = 1,
            MedianSeconds = timing.MedianSeconds,
            Iterations = timing.Calls,
            Samples = timing.Samples,
            Copy = copy,
        };
    }
}
