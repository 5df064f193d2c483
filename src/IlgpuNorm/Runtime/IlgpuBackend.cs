using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// An ILGPU accelerator with its kernels; host spans go to the device and back through staging buffers
/// that are kept and grown as needed (no device allocation per call once warm; freed on dispose).
/// </summary>
internal sealed partial class IlgpuBackend : IComputeBackend
{
    private readonly Lock gate = new();
    private readonly Accelerator accelerator;
    private readonly RmsNormKernels kernels;
    private MemoryBuffer1D<byte, Stride1D.Dense>? inputStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? weightStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? outputStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? residualStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? biasStage;
    private bool disposed;

    public IlgpuBackend(DeviceInfo info, Accelerator accelerator)
    {
        Info = info;
        this.accelerator = accelerator;
        kernels = new RmsNormKernels(accelerator);
    }

    public DeviceInfo Info { get; }

    public RmsNormKernels Kernels => kernels;

    public void Run<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            long total = problem.TotalElements;
            var input = Stage<T>(ref inputStage, total);
            var output = Stage<T>(ref outputStage, total);
            var weight = Stage<T>(ref weightStage, w.Length);
            input.CopyFromCPU(x[..(int)total]);
            if (!w.IsEmpty)
            {
                weight.CopyFromCPU(w);
            }

            Span<int> shape = [(int)problem.Rows, problem.NormalizedLength];
            ReadOnlySpan<int> normalized = shape[1..];
            kernels.Compute(input, shape, normalized, w.IsEmpty ? default : weight, output, problem.Epsilon, problem.NumGroups);
            accelerator.Synchronize();

            // Only now, with the whole result on the device, is the caller's destination written.
            output.CopyToCPU(y[..(int)total]);
        }
    }

    public void RunExtended<T>(scoped in ExtendedCall<T> call)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            var problem = call.Problem;
            var extras = call.Extras;
            int inputExtent = (int)RmsNormExtras.Extent(problem, extras.InputRowStride);
            int outputExtent = (int)RmsNormExtras.Extent(problem, extras.OutputRowStride);
            int residualExtent = call.Residual.IsEmpty ? 0 : (int)RmsNormExtras.Extent(problem, extras.ResidualRowStride);
            var input = Stage<T>(ref inputStage, inputExtent);
            var output = Stage<T>(ref outputStage, outputExtent);
            var residual = Stage<T>(ref residualStage, residualExtent);
            var weight = Stage<T>(ref weightStage, call.W.Length);
            var bias = Stage<T>(ref biasStage, call.B.Length);
            input.CopyFromCPU(call.X[..inputExtent]);
            if (extras.OutputRowStride != problem.NormalizedLength)
            {
                // The gaps between output rows travel back with the rows: bring the caller's values along so they stay.
                output.CopyFromCPU(call.Y[..outputExtent]);
            }

            if (residualExtent > 0)
            {
                residual.CopyFromCPU(call.Residual[..residualExtent]);
            }

            if (!call.W.IsEmpty)
            {
                weight.CopyFromCPU(call.W);
            }

            if (!call.B.IsEmpty)
            {
                bias.CopyFromCPU(call.B);
            }

            var options = new KernelLaunch(!call.W.IsEmpty)
            {
                HasBias = !call.B.IsEmpty,
                HasResidual = residualExtent > 0,
                Policy = (int)extras.Policy,
                WeightOffset = extras.WeightOffset,
                InputRowStride = extras.InputRowStride,
                OutputRowStride = extras.OutputRowStride,
                ResidualRowStride = extras.ResidualRowStride,
            };
            kernels.LaunchLocked(accelerator.DefaultStream, problem, call.Type, options, input, residualExtent > 0 ? residual : input, call.W.IsEmpty ? input : weight, call.B.IsEmpty ? input : bias, output);
            accelerator.Synchronize();

            // Only now, with the whole result on the device, are the caller's destination and residual written.
            output.CopyToCPU(call.Y[..outputExtent]);
            if (residualExtent > 0)
            {
                residual.CopyToCPU(call.Residual[..residualExtent]);
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            kernels.Dispose();
            inputStage?.Dispose();
            weightStage?.Dispose();
            outputStage?.Dispose();
            residualStage?.Dispose();
            biasStage?.Dispose();
            DisposeExtras();
            accelerator.Dispose();
        }
    }

    /// <summary>A view of <paramref name="count"/> elements over a kept staging buffer, grown when too small.</summary>
    private unsafe ArrayView<T> Stage<T>(ref MemoryBuffer1D<byte, Stride1D.Dense>? buffer, long count)
        where T : unmanaged
    {
        long bytes = Math.Max(count, 1) * sizeof(T);
        if (buffer is null || buffer.Length < bytes)
        {
            buffer?.Dispose();
            buffer = null;
            buffer = AllocateStaging(bytes);
        }

        return buffer.View.BaseView.Cast<T>().SubView(0, count);
    }
}
