using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuNorm.Runtime;

/// <summary>
/// An ILGPU accelerator with its kernels; host spans go to the device and back through staging buffers that are kept
/// and grown as needed (no device allocation per call once warm; freed on dispose). Each request runs in the kernels'
/// accelerator scope (<see cref="Call"/>) and pins the caller's spans for the whole call, so the copies need no
/// synchronize each: <see cref="Finish"/> waits once for the kernels and once for the downloads.
/// </summary>
internal sealed class IlgpuBackend : IComputeBackend
{
    private readonly DeviceKernels kernels;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>?[] stages = new MemoryBuffer1D<byte, Stride1D.Dense>?[(int)Stage.Count];
    private bool finished;

    public IlgpuBackend(DeviceInfo info, Accelerator accelerator)
    {
        Info = info;
        kernels = new DeviceKernels(accelerator);
        Kernels = new RmsNormKernels(kernels);
    }

    /// <summary>The staging buffers, one per role.</summary>
    private enum Stage
    {
        Input,
        Weight,
        Output,
        Residual,
        Bias,
        Codes,
        Floats,
        Gradient,
        WeightGradient,
        Count,
    }

    public DeviceInfo Info { get; }

    /// <summary>The device-resident API over this backend's kernels.</summary>
    public RmsNormKernels Kernels { get; }

    public unsafe void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X, residual = request.Residual, w = request.W, b = request.B, y = request.Y)
        {
            using var call = new Call(this);

            // With strided output rows, the gaps travel back with the rows: bring the caller's values along so they stay.
            var output = request.Extras.OutputRowStride != request.Problem.NormalizedLength ? Upload(Stage.Output, request.Y) : View<T>(Stage.Output, request.Y.Length);
            var views = new ForwardViews<T>(Upload(Stage.Input, request.X), Upload(Stage.Residual, request.Residual), Upload(Stage.Weight, request.W), Upload(Stage.Bias, request.B), output);
            kernels.Forward(Stream, request.Problem, request.Type, request.Extras, views);
            Finish(views.Y, request.Y, views.Residual, request.Residual);
        }
    }

    public unsafe void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X, w = request.W)
        fixed (byte* q = request.Q)
        fixed (float* scales = request.Scales)
        {
            using var call = new Call(this);
            var (qView, scaleView) = (View<byte>(Stage.Codes, request.Q.Length), View<float>(Stage.Floats, request.Scales.Length));
            kernels.Quantize(Stream, request.Problem, request.Type, request.Settings, Upload(Stage.Input, request.X), Upload(Stage.Weight, request.W), qView, scaleView);
            Finish(qView, request.Q, scaleView, request.Scales);
        }
    }

    public unsafe void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged
    {
        fixed (T* dy = request.Dy, x = request.X, w = request.W, dx = request.Dx, dw = request.Dw)
        fixed (float* rstd = request.Rstd)
        {
            using var call = new Call(this);
            var (dxView, dwView) = (View<T>(Stage.Output, request.Dx.Length), View<T>(Stage.WeightGradient, request.Dw.Length));
            kernels.Backward(Stream, request.Problem, request.Type, Upload(Stage.Gradient, request.Dy), Upload(Stage.Input, request.X), Upload(Stage.Weight, request.W),
                Upload(Stage.Floats, request.Rstd), dxView, dwView);
            Finish(dxView, request.Dx, dwView, request.Dw);
        }
    }

    public unsafe void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X)
        fixed (float* rstd = request.Rstd)
        {
            using var call = new Call(this);
            var (xView, rstdView) = (Upload(Stage.Input, request.X), View<float>(Stage.Floats, request.Rstd.Length));
            kernels.Backward(Stream, request.Problem, request.Type, xView, xView, default, rstdView, xView, default, rstdOnly: true);
            Finish(rstdView, request.Rstd, default(ArrayView<byte>), default);
        }
    }

    public void Dispose()
    {
        using var scope = kernels.Gate.EnterScope();
        if (!kernels.IsDisposed)
        {
            ReleaseStaging();
            kernels.Dispose();
            kernels.Accelerator.Dispose();
        }
    }

    private AcceleratorStream Stream => kernels.Accelerator.DefaultStream;

    /// <summary>
    /// Waits for the kernels (the whole result is on the device before any output is written), then copies up to two
    /// results to the caller's pinned memory and waits for the copies.
    /// </summary>
    private void Finish<TA, TB>(ArrayView<TA> a, Span<TA> aData, ArrayView<TB> b, Span<TB> bData)
        where TA : unmanaged
        where TB : unmanaged
    {
        Stream.Synchronize();
        if (!aData.IsEmpty)
        {
            a.CopyToCPUUnsafeAsync(Stream, ref MemoryMarshal.GetReference(aData), aData.Length);
        }

        if (!bData.IsEmpty)
        {
            b.CopyToCPUUnsafeAsync(Stream, ref MemoryMarshal.GetReference(bData), bData.Length);
        }

        Stream.Synchronize();
        finished = true;
    }

    /// <summary>A staging view holding the caller's pinned data, its copy queued; empty for empty data.</summary>
    private ArrayView<T> Upload<T>(Stage stage, ReadOnlySpan<T> data)
        where T : unmanaged
    {
        var view = View<T>(stage, data.Length);
        if (!data.IsEmpty)
        {
            view.CopyFromCPUUnsafeAsync(Stream, ref MemoryMarshal.GetReference(data), data.Length);
        }

        return view;
    }

    /// <summary>Waits for the copies already queued, ignoring a failure of its own.</summary>
    private void Drain()
    {
        try
        {
            Stream.Synchronize();
        }
#pragma warning disable CA1031 // the call is failing already; its own exception is the one to report.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>
    /// A view of <paramref name="count"/> elements over a kept staging buffer, grown when too small; empty for 0. When the
    /// device is out of memory, the copies this call queued are drained, every staging buffer is freed (a later call starts
    /// from nothing) and the failure is reported as an <see cref="InsufficientMemoryException"/> naming the request, the
    /// device and the device's memory.
    /// </summary>
    private unsafe ArrayView<T> View<T>(Stage stage, long count)
        where T : unmanaged
    {
        if (count == 0)
        {
            return default;
        }

        ref var buffer = ref stages[(int)stage];
        long bytes = count * sizeof(T);
        if (buffer is null || buffer.Length < bytes)
        {
            buffer?.Dispose();
            buffer = null;
            try
            {
                buffer = StagingAllocator?.Invoke(bytes) ?? kernels.Accelerator.Allocate1D<byte>(bytes);
            }
            catch (Exception ex) when (DeviceCatalog.IsOutOfMemory(ex))
            {
                long held = StagedBytes;
                Drain();
                ReleaseStaging();
                throw new InsufficientMemoryException(
                    $"Out of device memory: could not allocate a staging buffer of {bytes} bytes ({Format(bytes)}) on {Info} " +
                    $"(device memory {(Info.MemoryBytes > 0 && Info.MemoryBytes != long.MaxValue ? $"{Info.MemoryBytes} bytes ({Format(Info.MemoryBytes)})" : "not reported")}; " +
                    $"this backend held {held} bytes of staging buffers, now freed). Split the batch into smaller calls. Cause: {ex.GetType().Name}: {ex.Message}",
                    ex);
            }
        }

        return buffer.View.BaseView.Cast<T>().SubView(0, count);
    }

    /// <summary>Replaces the device allocation of the staging buffers (bytes → buffer): the seam the tests inject faults through.</summary>
    internal Func<long, MemoryBuffer1D<byte, Stride1D.Dense>>? StagingAllocator { get; set; }

    /// <summary>The bytes held by the staging buffers on the device now (0 after a failed allocation or dispose).</summary>
    internal long StagedBytes
    {
        get
        {
            using var scope = kernels.Gate.EnterScope();
            return stages.Sum(buffer => buffer is { IsDisposed: false } ? buffer.LengthInBytes : 0);
        }
    }

    private void ReleaseStaging()
    {
        for (int i = 0; i < stages.Length; i++)
        {
            stages[i]?.Dispose();
            stages[i] = null;
        }
    }

    private static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} B",
    };

    /// <summary>
    /// One request inside the kernels' scope (<see cref="DeviceKernels.Enter"/>). Left before <see cref="Finish"/> completed
    /// (a failure), it first waits for the copies already queued: the caller's spans stay pinned until nothing reads or writes them.
    /// </summary>
    private ref struct Call(IlgpuBackend backend)
    {
        private Lock.Scope scope = backend.kernels.Enter(backend);

        public void Dispose()
        {
            if (!backend.finished)
            {
                backend.Drain();
            }

            backend.finished = false;
            scope.Dispose();
        }
    }
}
