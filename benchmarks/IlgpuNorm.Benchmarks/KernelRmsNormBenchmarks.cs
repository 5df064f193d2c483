using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// TEST BACKEND ONLY: the float32 ILGPU kernel on ILGPU's CPU accelerator, which simulates a GPU with one
/// OS thread per GPU thread and is 20-1000x slower than the host path. It measures the kernel and launch
/// path (plan, launch, synchronize) on data already resident on the accelerator, so a regression in that
/// path shows without a GPU. It says nothing about GPU speed and is not a host-path alternative.
/// </summary>
/// <remarks>
/// The simulated device matches <see cref="DeviceDispatcher"/>'s default: 4-thread warps, 8 warps per
/// group, one multiprocessor per core. Kernel-only: uploads happen in [GlobalSetup]; each measured call
/// queues the kernel and waits for it.
/// </remarks>
[Config(typeof(KernelBenchmarkConfig))]
[BenchmarkCategory("TestBackend", "CpuAccelerator")]
public class KernelRmsNormBenchmarks : IDisposable
{
    private Context? context;
    private Accelerator? accelerator;
    private RmsNormKernels? kernels;
    private MemoryBuffer1D<float, Stride1D.Dense>? input;
    private MemoryBuffer1D<float, Stride1D.Dense>? weight;
    private MemoryBuffer1D<float, Stride1D.Dense>? output;
    private int[] shape = [];
    private int[] normalizedShape = [];

    /// <summary>[rows, normalized length]; kept small because the simulator is slow.</summary>
    public static IEnumerable<RmsNormShape> Shapes { get; } = [new(16, 4096), new(64, 1024)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(16, 4096);

    /// <summary>Creates the accelerator, compiles the kernel, uploads seeded data and checks one result.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (rows, columns) = (Shape.Rows, Shape.Columns);
        shape = [rows, columns];
        normalizedShape = [columns];
        var random = new Random(BenchmarkData.Seed);
        float[] x = new float[rows * columns];
        float[] w = new float[columns];
        BenchmarkData.Fill(w, random, 0.5f, 1.5f);
        BenchmarkData.Fill(x, random, 0.25f, 2.25f);

        var device = new CPUDevice(
            numThreadsPerWarp: 4,
            numWarpsPerMultiprocessor: 8,
            numMultiprocessors: Math.Max(1, Environment.ProcessorCount));
        context = Context.Create(b => b.CPU(device).Optimize(OptimizationLevel.O2));
        accelerator = context.CreateCPUAccelerator(0);
        kernels = new RmsNormKernels(accelerator);
        input = accelerator.Allocate1D(x);
        weight = accelerator.Allocate1D(w);
        output = accelerator.Allocate1D<float>(x.Length);

        CpuAcceleratorKernel(); // compiles the float32 kernel; nothing compiles while timing
        BenchmarkData.Verify(nameof(CpuAcceleratorKernel), x, w, output.GetAsArray1D());
    }

    /// <summary>Releases the buffers, the accelerator and the context.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>One kernel launch on resident data, synchronized.</summary>
    [Benchmark]
    public void CpuAcceleratorKernel()
    {
        kernels!.Compute(input!.View.BaseView, shape, normalizedShape, weight!.View.BaseView, output!.View.BaseView);
        accelerator!.Synchronize();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        kernels?.Dispose();
        input?.Dispose();
        weight?.Dispose();
        output?.Dispose();
        accelerator?.Dispose();
        context?.Dispose();
        (kernels, input, weight, output, accelerator, context) = (null, null, null, null, null, null);
        GC.SuppressFinalize(this);
    }
}
