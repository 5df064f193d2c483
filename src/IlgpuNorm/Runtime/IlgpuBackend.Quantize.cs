using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The quantized rms_norm on an ILGPU accelerator, staged like <see cref="Run{T}"/>; and the extra buffers' disposal.</summary>
internal sealed partial class IlgpuBackend
{
    private RmsNormQuantizeKernels? quantizeKernels;
    private RmsNormBackwardKernels? backwardKernels;
    private MemoryBuffer1D<byte, Stride1D.Dense>? byteStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? floatStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? dyStage;
    private MemoryBuffer1D<byte, Stride1D.Dense>? dwStage;

    public void RunQuantized<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            accelerator.Bind();
            long total = problem.TotalElements;
            var input = Stage<T>(ref inputStage, total);
            var weight = Stage<T>(ref weightStage, w.Length);
            var output = Stage<byte>(ref byteStage, total);
            var scaleView = scales.IsEmpty ? default : Stage<float>(ref floatStage, problem.Segments);
            input.CopyFromCPU(x[..(int)total]);
            if (!w.IsEmpty)
            {
                weight.CopyFromCPU(w);
            }

            var options = new QuantizeOptions
            {
                Format = settings.Format,
                StaticScale = settings.StaticScale > 0f ? settings.StaticScale : null,
                Clamp = float.IsFinite(settings.Clamp) ? settings.Clamp : null,
            };
            Span<int> shape = [(int)problem.Rows, problem.NormalizedLength];
            quantizeKernels ??= new RmsNormQuantizeKernels(accelerator);
            quantizeKernels.Compute(input, shape, shape[1..], w.IsEmpty ? default : weight, output, scaleView, options, problem.Epsilon, problem.NumGroups);
            accelerator.Synchronize();

            // Only now, with the whole result on the device, are the caller's spans written.
            output.CopyToCPU(q[..(int)total]);
            if (!scales.IsEmpty)
            {
                scaleView.CopyToCPU(scales[..(int)problem.Segments]);
            }
        }
    }

    partial void DisposeExtras();

    partial void DisposeExtras()
    {
        quantizeKernels?.Dispose();
        backwardKernels?.Dispose();
        byteStage?.Dispose();
        floatStage?.Dispose();
        dyStage?.Dispose();
        dwStage?.Dispose();
    }
}
