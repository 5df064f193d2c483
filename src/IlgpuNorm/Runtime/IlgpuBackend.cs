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
            buffer = accelerator.Allocate1D<byte>(bytes);
        }

        return buffer.View.BaseView.Cast<T>().SubView(0, count);
    }
}
