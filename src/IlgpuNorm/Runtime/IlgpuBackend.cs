using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>An ILGPU accelerator with its kernels; host spans go to the device and back.</summary>
internal sealed class IlgpuBackend : IComputeBackend
{
    private readonly Lock gate = new();
    private readonly Accelerator accelerator;
    private readonly RmsNormKernels kernels;
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
            using var inputBuffer = accelerator.Allocate1D<T>(total);
            using var outputBuffer = accelerator.Allocate1D<T>(total);
            using var weightBuffer = accelerator.Allocate1D<T>(w.Length);
            ArrayView<T> input = inputBuffer.View;
            ArrayView<T> output = outputBuffer.View;
            ArrayView<T> weight = weightBuffer.View;
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
            accelerator.Dispose();
        }
    }
}
