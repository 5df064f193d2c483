using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The rms_norm backward pass and its saved statistic on an ILGPU accelerator, staged like <see cref="Run{T}"/>.</summary>
internal sealed partial class IlgpuBackend
{
    public void RunBackward<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            long total = problem.TotalElements;
            var xView = Stage<T>(ref inputStage, total);
            var dyView = Stage<T>(ref dyStage, total);
            var dxView = Stage<T>(ref outputStage, total);
            var wView = Stage<T>(ref weightStage, w.Length);
            var dwView = Stage<T>(ref dwStage, dw.Length);
            var rstdView = rstd.IsEmpty ? default : Stage<float>(ref floatStage, rstd.Length);
            xView.CopyFromCPU(x[..(int)total]);
            dyView.CopyFromCPU(dy[..(int)total]);
            if (!w.IsEmpty)
            {
                wView.CopyFromCPU(w);
            }

            if (!rstd.IsEmpty)
            {
                rstdView.CopyFromCPU(rstd);
            }

            Span<int> shape = [(int)problem.Rows, problem.NormalizedLength];
            backwardKernels ??= new RmsNormBackwardKernels(accelerator);
            backwardKernels.Compute(dyView, xView, shape, shape[1..], w.IsEmpty ? default : wView, rstdView, dxView, w.IsEmpty ? default : dwView, problem.Epsilon, problem.NumGroups);
            accelerator.Synchronize();

            // Only now, with the whole result on the device, are the caller's spans written.
            dxView.CopyToCPU(dx[..(int)total]);
            if (!w.IsEmpty)
            {
                dwView.CopyToCPU(dw[..w.Length]);
            }
        }
    }

    public void RunRstd<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, Span<float> rstd)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            long total = problem.TotalElements;
            var xView = Stage<T>(ref inputStage, total);
            var rstdView = Stage<float>(ref floatStage, problem.Segments);
            xView.CopyFromCPU(x[..(int)total]);
            Span<int> shape = [(int)problem.Rows, problem.NormalizedLength];
            backwardKernels ??= new RmsNormBackwardKernels(accelerator);
            backwardKernels.ComputeRstd(xView, shape, shape[1..], rstdView, problem.Epsilon, problem.NumGroups);
            accelerator.Synchronize();
            rstdView.CopyToCPU(rstd[..(int)problem.Segments]);
        }
    }
}
