using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The float32 ILGPU kernel on every accelerator the dispatcher finds (ILGPU's CPU accelerator always; OpenCL and
/// CUDA devices when present), kept apart in three rows per backend and shape:
/// <list type="bullet">
/// <item><c>Kernel</c>: <see cref="RmsNormKernels.Compute{T}"/> on data already resident on the device, then a synchronize;</item>
/// <item><c>DeviceCopy</c>: a device-to-device copy of x into y on the same stream (the device's copy limit: <c>% of copy</c>);</item>
/// <item><c>EndToEnd</c>: <see cref="RmsNorm.Compute{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, RmsNormOptions?)"/>
/// with host arrays in and out (upload, kernel, download).</item>
/// </list>
/// </summary>
/// <remarks>
/// The CPU accelerator is a TEST BACKEND: it simulates a GPU with one OS thread per GPU thread and is 20-1000x slower
/// than the host path; its rows measure the launch path and catch regressions, not speed. GPU shapes include
/// [32768, 4096]; the CPU accelerator runs only the small shapes.
/// </remarks>
[Config(typeof(KernelBenchmarkConfig))]
[BenchmarkCategory("Kernel")]
public class KernelRmsNormBenchmarks : IDisposable
{
    private RmsNormKernels? kernels;
    private MemoryBuffer1D<float, Stride1D.Dense>? input;
    private MemoryBuffer1D<float, Stride1D.Dense>? weight;
    private MemoryBuffer1D<float, Stride1D.Dense>? output;
    private float[] hostInput = [];
    private float[] hostWeight = [];
    private float[] hostOutput = [];
    private RmsNormOptions options = RmsNormOptions.Default;
    private int[] shape = [];
    private int[] normalizedShape = [];

    /// <summary>
    /// Each accelerator present (<c>cpu</c> always, then every OpenCL and CUDA device found) with its shapes: the CPU
    /// accelerator only the small ones, GPUs and OpenCL devices [4096, 4096] and [32768, 4096] too.
    /// </summary>
    public static IEnumerable<KernelCase> Cases { get; } =
    [
        .. DeviceDispatcher.Shared.Devices
            .Where(d => d.Kind is DeviceKind.Cpu or DeviceKind.OpenCL or DeviceKind.Cuda)
            .SelectMany(d => (d.Kind == DeviceKind.Cpu
                ? new RmsNormShape[] { new(16, 4096), new(64, 1024) }
                : [new(16, 4096), new(64, 1024), new(4096, 4096), new(32768, 4096)])
                .Select(shape => new KernelCase(d.Request.ToString(), shape))),
    ];

    /// <summary>The backend and shape of this case.</summary>
    [ParamsSource(nameof(Cases))]
    public KernelCase Case { get; set; } = new("cpu", new(16, 4096));

    private Accelerator Accelerator => kernels!.Accelerator;

    /// <summary>Uploads seeded data, compiles the kernel and checks one kernel and one end-to-end result.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (rows, columns) = (Case.Shape.Rows, Case.Shape.Columns);
        var request = DeviceRequest.Parse(Case.Backend);
        shape = [rows, columns];
        normalizedShape = [columns];
        options = new RmsNormOptions { Device = request };
        var random = new Random(BenchmarkData.Seed);
        hostInput = new float[rows * columns];
        hostWeight = new float[columns];
        hostOutput = new float[rows * columns];
        BenchmarkData.Fill(hostWeight, random, 0.5f, 1.5f);
        BenchmarkData.Fill(hostInput, random, 0.25f, 2.25f);

        kernels = DeviceDispatcher.Shared.KernelsFor(request) ?? throw new InvalidOperationException($"{Case.Backend} has no kernels.");
        input = Accelerator.Allocate1D(hostInput);
        weight = Accelerator.Allocate1D(hostWeight);
        output = Accelerator.Allocate1D<float>(hostInput.Length);

        Kernel(); // compiles the float32 kernel; nothing compiles while timing
        BenchmarkData.Verify(nameof(Kernel), hostInput, hostWeight, output.GetAsArray1D());
        EndToEnd();
        BenchmarkData.Verify(nameof(EndToEnd), hostInput, hostWeight, hostOutput);
        DeviceCopy();
    }

    /// <summary>Releases the buffers (the dispatcher owns the accelerator).</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>x copied to y on the device, synchronized: the device's copy limit.</summary>
    [Benchmark]
    public void DeviceCopy()
    {
        input!.View.CopyTo(Accelerator.DefaultStream, output!.View);
        Accelerator.Synchronize();
    }

    /// <summary>One kernel launch on resident data, synchronized.</summary>
    [Benchmark]
    public void Kernel()
    {
        kernels!.Compute(input!.View.BaseView, shape, normalizedShape, weight!.View.BaseView, output!.View.BaseView);
        Accelerator.Synchronize();
    }

    /// <summary>Host arrays in and out through the public API on this backend.</summary>
    [Benchmark]
    public void EndToEnd() => RmsNorm.Compute<float>(hostInput, shape, normalizedShape, hostWeight, hostOutput, options);

    /// <inheritdoc />
    public void Dispose()
    {
        input?.Dispose();
        weight?.Dispose();
        output?.Dispose();
        (input, weight, output, kernels) = (null, null, null, null);
        GC.SuppressFinalize(this);
    }
}

/// <summary>One accelerator and shape of <see cref="KernelRmsNormBenchmarks"/>.</summary>
/// <param name="Backend">The device request, e.g. <c>cpu</c>, <c>opencl:0</c>, <c>cuda:0</c>.</param>
/// <param name="Shape">The shape.</param>
public sealed record KernelCase(string Backend, RmsNormShape Shape)
{
    /// <inheritdoc />
    public override string ToString() => $"{Backend} {Shape}";
}
