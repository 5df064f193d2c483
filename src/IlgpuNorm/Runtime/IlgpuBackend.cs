using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>
/// An ILGPU accelerator with its kernels; host spans go to the device and back through staging buffers that are kept
/// and grown as needed (no device allocation per call once warm; freed on dispose). Each request runs in the kernels'
/// accelerator scope, and the caller's outputs are written only after the whole result is on the device.
/// </summary>
internal sealed partial class IlgpuBackend : IComputeBackend
{
    private readonly Accelerator accelerator;
    private readonly DeviceKernels kernels;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>?[] stages = new MemoryBuffer1D<byte, Stride1D.Dense>?[(int)Stage.Count];

    public IlgpuBackend(DeviceInfo info, Accelerator accelerator)
    {
        Info = info;
        this.accelerator = accelerator;
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

    // Each request pins the caller's spans for the whole call and allocates its staging views before it queues any copy,
    // so the copies need no synchronize each: one synchronize after the kernels (the whole result is on the device
    // before any output is written), one after the downloads; on a failure the stream is drained before the spans unpin.
    public unsafe void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X, residual = request.Residual, w = request.W, b = request.B, y = request.Y)
        {
            using (kernels.Enter(this))
            {
                try
                {
                    var views = new ForwardViews<T>(View<T>(Stage.Input, request.X.Length), View<T>(Stage.Residual, request.Residual.Length),
                        View<T>(Stage.Weight, request.W.Length), View<T>(Stage.Bias, request.B.Length), View<T>(Stage.Output, request.Y.Length));
                    Upload(views.X, x, request.X.Length);
                    Upload(views.Residual, residual, request.Residual.Length);
                    Upload(views.W, w, request.W.Length);
                    Upload(views.B, b, request.B.Length);

                    // With strided output rows, the gaps travel back with the rows: bring the caller's values along so they stay.
                    Upload(views.Y, y, request.Extras.OutputRowStride != request.Problem.NormalizedLength ? request.Y.Length : 0);
                    kernels.Forward(Stream, request.Problem, request.Type, request.Extras, views);
                    Finish(views.Y, y, request.Y.Length, views.Residual, residual, request.Residual.Length);
                }
                catch (Exception) when (Drain())
                {
                }
            }
        }
    }

    public unsafe void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X, w = request.W)
        fixed (byte* q = request.Q)
        fixed (float* scales = request.Scales)
        {
            using (kernels.Enter(this))
            {
                try
                {
                    var (xView, wView) = (View<T>(Stage.Input, request.X.Length), View<T>(Stage.Weight, request.W.Length));
                    var (qView, scaleView) = (View<byte>(Stage.Codes, request.Q.Length), View<float>(Stage.Floats, request.Scales.Length));
                    Upload(xView, x, request.X.Length);
                    Upload(wView, w, request.W.Length);
                    kernels.Quantize(Stream, request.Problem, request.Type, request.Settings, xView, wView, qView, scaleView);
                    Finish(qView, q, request.Q.Length, scaleView, scales, request.Scales.Length);
                }
                catch (Exception) when (Drain())
                {
                }
            }
        }
    }

    public unsafe void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged
    {
        fixed (T* dy = request.Dy, x = request.X, w = request.W, dx = request.Dx, dw = request.Dw)
        fixed (float* rstd = request.Rstd)
        {
            using (kernels.Enter(this))
            {
                try
                {
                    var (dyView, xView, wView) = (View<T>(Stage.Gradient, request.Dy.Length), View<T>(Stage.Input, request.X.Length), View<T>(Stage.Weight, request.W.Length));
                    var (rstdView, dxView, dwView) = (View<float>(Stage.Floats, request.Rstd.Length), View<T>(Stage.Output, request.Dx.Length), View<T>(Stage.WeightGradient, request.Dw.Length));
                    Upload(dyView, dy, request.Dy.Length);
                    Upload(xView, x, request.X.Length);
                    Upload(wView, w, request.W.Length);
                    Upload(rstdView, rstd, request.Rstd.Length);
                    kernels.Backward(Stream, request.Problem, request.Type, dyView, xView, wView, rstdView, dxView, dwView);
                    Finish(dxView, dx, request.Dx.Length, dwView, dw, request.Dw.Length);
                }
                catch (Exception) when (Drain())
                {
                }
            }
        }
    }

    public unsafe void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged
    {
        fixed (T* x = request.X)
        fixed (float* rstd = request.Rstd)
        {
            using (kernels.Enter(this))
            {
                try
                {
                    var (xView, rstdView) = (View<T>(Stage.Input, request.X.Length), View<float>(Stage.Floats, request.Rstd.Length));
                    Upload(xView, x, request.X.Length);
                    kernels.Backward(Stream, request.Problem, request.Type, xView, xView, default, rstdView, xView, default, rstdOnly: true);
                    Finish(rstdView, rstd, request.Rstd.Length, default(ArrayView<byte>), null, 0);
                }
                catch (Exception) when (Drain())
                {
                }
            }
        }
    }

    public void Dispose()
    {
        using (kernels.Gate.EnterScope())
        {
            if (kernels.IsDisposed)
            {
                return;
            }

            ReleaseStaging();
            kernels.Dispose();
            accelerator.Dispose();
        }
    }

    private AcceleratorStream Stream => accelerator.DefaultStream;

    /// <summary>
    /// Waits for the kernels (the whole result is on the device before any output is written), then copies up to two
    /// results to the caller's pinned memory and waits for the copies.
    /// </summary>
    private unsafe void Finish<TA, TB>(ArrayView<TA> a, TA* aData, int aLength, ArrayView<TB> b, TB* bData, int bLength)
        where TA : unmanaged
        where TB : unmanaged
    {
        Stream.Synchronize();
        Download(a, aData, aLength);
        Download(b, bData, bLength);
        Stream.Synchronize();
    }

    /// <summary>Queues the copy of a result to the caller's pinned memory; nothing for empty data.</summary>
    private unsafe void Download<T>(ArrayView<T> view, T* data, int length)
        where T : unmanaged
    {
        if (length > 0)
        {
            view.CopyToCPUUnsafeAsync(Stream, ref Unsafe.AsRef<T>(data), length);
        }
    }

    /// <summary>Queues the copy of the caller's pinned data into a staging view; nothing for empty data.</summary>
    private unsafe void Upload<T>(ArrayView<T> view, T* data, int length)
        where T : unmanaged
    {
        if (length > 0)
        {
            view.CopyFromCPUUnsafeAsync(Stream, ref Unsafe.AsRef<T>(data), length);
        }
    }

    /// <summary>
    /// An exception filter that waits for the copies already queued (ignoring a failure of its own) and lets the
    /// exception through unchanged: the caller's spans stay pinned until nothing reads or writes them.
    /// </summary>
    private bool Drain()
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

        return false;
    }

    /// <summary>A view of <paramref name="count"/> elements over a kept staging buffer, grown when too small; empty for 0.</summary>
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
            buffer = AllocateStaging(bytes);
        }

        return buffer.View.BaseView.Cast<T>().SubView(0, count);
    }
}
