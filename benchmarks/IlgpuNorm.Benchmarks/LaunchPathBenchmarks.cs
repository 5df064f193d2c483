using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// What one single-row call (1 x 4096 float32, the decode-step latency case) costs on the host side of the device path:
/// validation, the kernel cache, parameter marshalling, the launch and the synchronization. It runs on ILGPU's CPU
/// accelerator, so no GPU is needed. The resident-view rows use a CPU accelerator of two threads (one warp of two threads,
/// one multiprocessor), so the kernel is two OS threads summing 2048 elements each, with few barriers to wait on a busy machine:
/// what remains is the launch path. The allocation column counts what is allocated per call on the calling thread.
/// </summary>
/// <remarks>
/// Rows: <c>Synchronize</c> (the floor: a synchronize with nothing queued), <c>ChecksOnly</c> (the validation of a
/// call, on an empty batch), <c>Views</c> (<see cref="RmsNormKernels"/> on
/// resident data), <c>ViewsWithOptions</c> (the options overload: bias, policy, offset), <c>FusedAdd</c> (the fused residual
/// add on resident data), <c>HostSpans</c> (<see cref="RmsNorm"/> with host arrays on the CPU accelerator: upload, launch,
/// download). Command: <c>dotnet run -c Release --project benchmarks/IlgpuNorm.Benchmarks -- --filter '*LaunchPath*'</c>.
/// </remarks>
[Config(typeof(Config))]
[BenchmarkCategory("LaunchPath")]
public class LaunchPathBenchmarks : IDisposable
{
    private const int Hidden = 4096;
    private static readonly int[] Shape = [1, Hidden];
    private static readonly int[] NormalizedShape = [Hidden];
    private static readonly int[] EmptyShape = [0, Hidden];

    private readonly RmsNormOptions options = new() { Device = DeviceRequest.Cpu };
    private readonly RmsNormOptions gemma = new() { Policy = RmsNormPolicy.WeightInFloat32, WeightOffset = 1f, Device = DeviceRequest.Cpu };
    private Context? context;
    private Accelerator? accelerator;
    private RmsNormKernels? kernels;
    private MemoryBuffer1D<float, Stride1D.Dense>? input;
    private MemoryBuffer1D<float, Stride1D.Dense>? residual;
    private MemoryBuffer1D<float, Stride1D.Dense>? weight;
    private MemoryBuffer1D<float, Stride1D.Dense>? output;
    private float[] hostInput = [];
    private float[] hostWeight = [];
    private float[] hostOutput = [];

    /// <summary>Uploads seeded data, compiles every kernel used and checks the plain results once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(BenchmarkData.Seed);
        hostInput = new float[Hidden];
        hostWeight = new float[Hidden];
        hostOutput = new float[Hidden];
        BenchmarkData.Fill(hostWeight, random, 0.5f, 1.5f);
        BenchmarkData.Fill(hostInput, random, 0.25f, 2.25f);
        context = Context.Create(builder => builder.CPU(new CPUDevice(numThreadsPerWarp: 2, numWarpsPerMultiprocessor: 1, numMultiprocessors: 1)));
        accelerator = context.CreateCPUAccelerator(0);
        kernels = new RmsNormKernels(accelerator);
        input = accelerator.Allocate1D(hostInput);
        residual = accelerator.Allocate1D(hostInput);
        weight = accelerator.Allocate1D(hostWeight);
        output = accelerator.Allocate1D<float>(Hidden);

        Views();
        BenchmarkData.Verify(nameof(Views), hostInput, hostWeight, output.GetAsArray1D());
        HostSpans();
        BenchmarkData.Verify(nameof(HostSpans), hostInput, hostWeight, hostOutput);
        ViewsWithOptions();
        FusedAdd();
        Synchronize();
    }

    /// <summary>Releases the buffers, the kernels and the accelerator.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>A synchronize with nothing queued: the floor under every other row.</summary>
    [Benchmark(Baseline = true)]
    public void Synchronize() => accelerator!.Synchronize();

    /// <summary>The public edge alone: the plain call's checks on an empty batch (nothing is launched).</summary>
    [Benchmark]
    public void ChecksOnly() => kernels!.Compute(default(ArrayView<float>), EmptyShape, NormalizedShape, weight!.View.BaseView, output!.View.BaseView);

    /// <summary>The plain norm on resident views, synchronized.</summary>
    [Benchmark]
    public void Views()
    {
        kernels!.Compute(input!.View.BaseView, Shape, NormalizedShape, weight!.View.BaseView, output!.View.BaseView);
        accelerator!.Synchronize();
    }

    /// <summary>The options overload (Gemma's offset, no bias) on resident views, synchronized.</summary>
    [Benchmark]
    public void ViewsWithOptions()
    {
        kernels!.Compute(input!.View.BaseView, Shape, NormalizedShape, weight!.View.BaseView, default, output!.View.BaseView, gemma);
        accelerator!.Synchronize();
    }

    /// <summary>The fused residual add on resident views, synchronized (the residual keeps growing: only the time counts).</summary>
    [Benchmark]
    public void FusedAdd()
    {
        kernels!.ComputeFusedAdd(input!.View.BaseView, residual!.View.BaseView, Shape, NormalizedShape, weight!.View.BaseView, default, output!.View.BaseView);
        accelerator!.Synchronize();
    }

    /// <summary>Host arrays through the public API on the dispatcher's CPU accelerator (many simulated threads): upload, launch, synchronize, download.</summary>
    [Benchmark]
    public void HostSpans() => RmsNorm.Compute<float>(hostInput, Shape, NormalizedShape, hostWeight, hostOutput, options);

    /// <inheritdoc />
    public void Dispose()
    {
        input?.Dispose();
        residual?.Dispose();
        weight?.Dispose();
        output?.Dispose();
        kernels?.Dispose();
        accelerator?.Dispose();
        context?.Dispose();
        (input, residual, weight, output, kernels, accelerator, context) = (null, null, null, null, null, null, null);
        GC.SuppressFinalize(this);
    }

    /// <summary>Columns of <see cref="LaunchPathBenchmarks"/>: median and allocated bytes per call, in microseconds.</summary>
    public sealed class Config : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public Config()
        {
            AddColumn(StatisticColumn.Median);
            AddDiagnoser(MemoryDiagnoser.Default);
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
        }
    }
}
