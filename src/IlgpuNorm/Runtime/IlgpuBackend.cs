using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

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

    public void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged
    {
        using (kernels.Enter(this))
        {
            var x = Upload(Stage.Input, request.X);
            var residual = Upload(Stage.Residual, request.Residual);
            var w = Upload(Stage.Weight, request.W);
            var b = Upload(Stage.Bias, request.B);

            // With strided output rows, the gaps travel back with the rows: bring the caller's values along so they stay.
            var y = request.Extras.OutputRowStride != request.Problem.NormalizedLength ? Upload(Stage.Output, request.Y) : View<T>(Stage.Output, request.Y.Length);
            kernels.Forward(accelerator.DefaultStream, request.Problem, request.Type, request.Extras, new ForwardViews<T>(x, residual, w, b, y));
            accelerator.Synchronize();
            Download(y, request.Y);
            Download(residual, request.Residual);
        }
    }

    public void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged
    {
        using (kernels.Enter(this))
        {
            var (q, scales) = (View<byte>(Stage.Codes, request.Q.Length), View<float>(Stage.Floats, request.Scales.Length));
            kernels.Quantize(accelerator.DefaultStream, request.Problem, request.Type, request.Settings, Upload(Stage.Input, request.X), Upload(Stage.Weight, request.W), q, scales);
            accelerator.Synchronize();
            Download(q, request.Q);
            Download(scales, request.Scales);
        }
    }

    public void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged
    {
        using (kernels.Enter(this))
        {
            var (dx, dw) = (View<T>(Stage.Output, request.Dx.Length), View<T>(Stage.WeightGradient, request.Dw.Length));
            var (dy, x) = (Upload(Stage.Gradient, request.Dy), Upload(Stage.Input, request.X));
            kernels.Backward(accelerator.DefaultStream, request.Problem, request.Type, dy, x, Upload(Stage.Weight, request.W), Upload(Stage.Floats, request.Rstd), dx, dw);
            accelerator.Synchronize();
            Download(dx, request.Dx);
            Download(dw, request.Dw);
        }
    }

    public void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged
    {
        using (kernels.Enter(this))
        {
            var x = Upload(Stage.Input, request.X);
            var rstd = View<float>(Stage.Floats, request.Rstd.Length);
            kernels.Backward(accelerator.DefaultStream, request.Problem, request.Type, x, x, default, rstd, x, default, rstdOnly: true);
            accelerator.Synchronize();
            Download(rstd, request.Rstd);
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

    /// <summary>Copies a result to the caller (called after the synchronize: only a whole result is written); nothing for empty data.</summary>
    private static void Download<T>(ArrayView<T> view, Span<T> data)
        where T : unmanaged
    {
        if (!data.IsEmpty)
        {
            view.CopyToCPU(data);
        }
    }

    /// <summary>The staging view of <paramref name="data"/>, copied in; empty (no buffer) for empty data.</summary>
    private ArrayView<T> Upload<T>(Stage stage, ReadOnlySpan<T> data)
        where T : unmanaged
    {
        var view = View<T>(stage, data.Length);
        if (!data.IsEmpty)
        {
            view.CopyFromCPU(data);
        }

        return view;
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
