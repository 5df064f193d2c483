using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Fallback and overrides, driven through the dispatcher's injection seam (no real GPU needed).</summary>
public class DispatcherFaultTests
{
    private static readonly DeviceInfo FakeCuda = new(DeviceKind.Cuda, 0, "Fake GPU", true, 1L << 34, 1024, 32, true, "injected");

    private static DeviceDispatcher Create(Func<DeviceInfo, IComputeBackend> factory, string? env = null) =>
        new(new FakeCatalog([HostBackend.Description, FakeCuda], factory), () => env);

    private static IComputeBackend Working(DeviceInfo info) => info.Kind == DeviceKind.Host ? new HostBackend() : new RecordingBackend(info);

    [Fact]
    public void Auto_FallsBack_WhenTheBestDeviceFailsToStart_AndSaysWhy()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? throw new InvalidOperationException("driver exploded") : Working(info));
        var selection = dispatcher.Select();
        Assert.Equal(DeviceKind.Host, selection.Device.Kind);
        Assert.Contains("driver exploded", selection.Reason, StringComparison.Ordinal);
        Assert.Contains(dispatcher.Messages, m => m.Contains("skipped", StringComparison.Ordinal) && m.Contains("driver exploded", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_PicksTheGpu_WhenItStarts()
    {
        using var dispatcher = Create(Working);
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select().Device.Kind);
    }

    [Fact]
    public void MessageEvent_ReportsTheChoice()
    {
        using var dispatcher = Create(Working);
        var lines = new List<string>();
        dispatcher.Message += (_, line) => lines.Add(line);
        dispatcher.Select();
        Assert.Contains(lines, l => l.Contains("chose", StringComparison.Ordinal) && l.Contains("cuda", StringComparison.Ordinal));
    }

    [Fact]
    public void EnvironmentVariable_ForcesTheDevice()
    {
        using var dispatcher = Create(Working, env: "host");
        var selection = dispatcher.Select();
        Assert.Equal(DeviceKind.Host, selection.Device.Kind);
        Assert.Contains("ILGPUNORM_DEVICE=host", selection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitRequest_BeatsTheEnvironmentVariable()
    {
        using var dispatcher = Create(Working, env: "host");
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select(new DeviceRequest(DeviceKind.Cuda)).Device.Kind);
    }

    [Fact]
    public void EnvironmentVariable_Invalid_ThrowsNamingIt()
    {
        using var dispatcher = Create(Working, env: "tpu");
        var ex = Assert.Throws<InvalidOperationException>(() => dispatcher.Select());
        Assert.Contains("ILGPUNORM_DEVICE", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tpu", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForcedDevice_ThatFailsToStart_Throws_WithTheCause()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? throw new InvalidOperationException("no libcuda") : Working(info));
        var ex = Assert.Throws<DeviceUnavailableException>(() => dispatcher.Select(new DeviceRequest(DeviceKind.Cuda)));
        Assert.Contains("no libcuda", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_DisposesEveryBackendItStarted_AndTheCatalog()
    {
        RecordingBackend? started = null;
        var catalog = new FakeCatalog([HostBackend.Description, FakeCuda], info => info.Kind == DeviceKind.Cuda ? started = new RecordingBackend(info) : Working(info));
        var dispatcher = new DeviceDispatcher(catalog, () => null);
        dispatcher.Select();
        dispatcher.Dispose();
        Assert.True(started!.Disposed);
        Assert.True(catalog.Disposed);
    }

    [Fact]
    public void ForcedDevice_ThatTheCatalogDoesNotHave_Throws_NamingWhatWasFound_AndNeverStartsIt()
    {
        int starts = 0;
        using var dispatcher = Create(info => { starts++; return Working(info); });
        var ex = Assert.Throws<DeviceUnavailableException>(() => dispatcher.Select(new DeviceRequest(DeviceKind.Cuda, 3)));
        Assert.Contains("no Cuda device with index 3 was found (found: cuda, host)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, starts);
    }

    [Fact]
    public void Auto_FallsBack_WhenTheDeviceFailsDuringACall_AndNeverRetriesIt()
    {
        RecordingBackend? gpu = null;
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? gpu = new RecordingBackend(info) : Working(info));
        float[] x = [1, 2, 3, 4, 5, 6];
        var y = new float[6];
        var problem = RmsNormProblem.Create([2, 3], [3], 1, 1e-6);

        dispatcher.Execute<float>(null, problem, ElementType.Float32, x, default, y);
        dispatcher.Execute<float>(null, problem, ElementType.Float32, x, default, y);

        Assert.Equal(1, gpu!.Runs);
        Assert.True(gpu.Disposed);
        Assert.Equal(DeviceKind.Host, dispatcher.Select().Device.Kind);
        Assert.Contains(dispatcher.Messages, m => m.Contains("dropped", StringComparison.Ordinal) && m.Contains("kernel did not compile", StringComparison.Ordinal));
        Support.Check.AssertClose(x, [2, 3], [3], [], 1e-6, 1, y, "fallback result");
    }

    [Fact]
    public void ForcedDevice_ThatFailsDuringACall_Throws_AndLeavesTheDestinationUntouched()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? new RecordingBackend(info) : Working(info));
        float[] x = [1, 2, 3];
        float[] y = [7, 7, 7];
        var problem = RmsNormProblem.Create([1, 3], [3], 1, 1e-6);
        Assert.Throws<NotSupportedException>(() => dispatcher.Execute<float>(new DeviceRequest(DeviceKind.Cuda), problem, ElementType.Float32, x, default, y));
        Assert.Equal([7f, 7f, 7f], y);
    }

    // ---- The three fault points (start, kernel compile, launch) × both dispatcher paths (forward, generic Execute). ----

    public static TheoryData<string, string> FaultPointsByPath()
    {
        var data = new TheoryData<string, string>();
        foreach (string fault in new[] { "init", "compile", "launch" })
        {
            data.Add(fault, "forward");
            data.Add(fault, "generic");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FaultPointsByPath))]
    public void Auto_FaultAtEveryPoint_FallsBack_SaysWhy_AndTheOutputIsCompleteAndCorrect(string fault, string path)
    {
        FaultyBackend? gpu = null;
        using var dispatcher = Create(info => info.Kind != DeviceKind.Cuda ? Working(info)
            : fault == "init" ? throw new InvalidOperationException("CUDA_ERROR_NO_DEVICE while starting")
            : gpu = new FaultyBackend(info, fault));
        var x = TestData.Random<float>(5 * 33, 11);
        var w = TestData.Random<float>(33, 12);
        var y = TestData.Poisoned<float>(x.Length);
        var problem = RmsNormProblem.Create([5, 33], [33], 1, 1e-6);

        Run(dispatcher, path, null, problem, x, w, y);

        Check.AssertClose(x, [5, 33], [33], w, 1e-6, 1, y, $"{fault}/{path}");
        string expectedReason = fault switch
        {
            "init" => "CUDA_ERROR_NO_DEVICE",
            "compile" => "kernel did not compile",
            _ => "CUDA_ERROR_LAUNCH_FAILED",
        };
        Assert.Contains(dispatcher.Messages, m => m.Contains(expectedReason, StringComparison.Ordinal));
        Assert.Equal(DeviceKind.Host, dispatcher.Select().Device.Kind);
        if (gpu is not null)
        {
            Assert.Equal(1, gpu.Runs);
            Assert.True(gpu.Disposed);
        }

        // Later calls go straight to the host path: the failed device is not retried.
        var again = TestData.Poisoned<float>(x.Length);
        Run(dispatcher, path, null, problem, x, w, again);
        Assert.Equal(y, again);
        Assert.Equal(1, gpu?.Runs ?? 1);
    }

    [Theory]
    [MemberData(nameof(FaultPointsByPath))]
    public void Forced_FaultAtEveryPoint_Throws_AndLeavesTheOutputUntouched(string fault, string path)
    {
        using var dispatcher = Create(info => info.Kind != DeviceKind.Cuda ? Working(info)
            : fault == "init" ? throw new InvalidOperationException("CUDA_ERROR_NO_DEVICE while starting")
            : new FaultyBackend(info, fault, writesBeforeFailing: false));
        float[] x = [1, 2, 3, 4, 5, 6];
        float[] y = [7, 7, 7, 7, 7, 7];
        var problem = RmsNormProblem.Create([2, 3], [3], 1, 1e-6);
        var ex = Assert.ThrowsAny<Exception>(() => Run(dispatcher, path, new DeviceRequest(DeviceKind.Cuda), problem, x, [], y));
        Assert.Contains(fault == "init" ? "CUDA_ERROR_NO_DEVICE" : fault == "compile" ? "did not compile" : "LAUNCH_FAILED", ex.Message, StringComparison.Ordinal);
        Assert.Equal([7f, 7f, 7f, 7f, 7f, 7f], y);
    }

    /// <summary>A real ILGPU backend whose accelerator is gone fails inside its launch: auto falls back, forced leaves the output alone.</summary>
    [Theory]
    [InlineData("forward")]
    [InlineData("generic")]
    public void RealBackend_FailingAtLaunch_FallsBackInAuto_AndIsUntouchedWhenForced(string path)
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        var accelerator = context.CreateCPUAccelerator(0);
        var broken = new IlgpuBackend(FakeCuda, accelerator);
        accelerator.Dispose();
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? broken : Working(info));
        var x = TestData.Random<float>(3 * 31, 21);
        var problem = RmsNormProblem.Create([3, 31], [31], 1, 1e-6);

        var y = TestData.Poisoned<float>(x.Length);
        var forced = Assert.ThrowsAny<Exception>(() => Run(dispatcher, path, new DeviceRequest(DeviceKind.Cuda), problem, x, [], y));
        Assert.IsNotType<ArgumentException>(forced, exactMatch: false);
        Assert.All(y, v => Assert.Equal(TestData.Poison, v));

        Run(dispatcher, path, null, problem, x, [], y);
        Check.AssertClose(x, [3, 31], [31], [], 1e-6, 1, y, $"fallback from a broken accelerator ({path})");
        Assert.Contains(dispatcher.Messages, m => m.Contains("dropped", StringComparison.Ordinal) && m.Contains("cuda", StringComparison.Ordinal));
    }

    // ---- Out of device memory: the staging allocation, by injection. ----

    public static TheoryData<string> OutOfMemoryKinds() => ["managed", "opencl", "cuda"];

    private static Exception OutOfMemory(string kind) => kind switch
    {
        "opencl" => new CLException(CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE),
        "cuda" => new CudaException("out of memory"),
#pragma warning disable CA2201 // simulates what the CPU accelerator's allocator (Marshal.AllocHGlobal) throws
        _ => new OutOfMemoryException("injected"),
#pragma warning restore CA2201
    };

    [Theory]
    [MemberData(nameof(OutOfMemoryKinds))]
    public void OutOfDeviceMemory_NamesTheSizes_FreesTheStaging_AndLeavesTheOutputUntouched(string kind)
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        var info = FakeCuda with { Name = "Tiny GPU", MemoryBytes = 3L << 30 };
        using var backend = new IlgpuBackend(info, accelerator);
        var x = TestData.Random<float>(4 * 100, 31);
        var w = TestData.Random<float>(100, 32);
        var problem = RmsNormProblem.Create([4, 100], [100], 1, 1e-6);
        var y = TestData.Poisoned<float>(x.Length);

        // A first call stages 1600 + 1600 + 400 bytes; a bigger one must grow the input buffer, and the output's fails.
        backend.Forward<float>(problem, ElementType.Float32, x, w, y);
        Assert.Equal(3600, backend.StagedBytes);
        var big = RmsNormProblem.Create([40, 100], [100], 1, 1e-6);
        var bigX = TestData.Random<float>(40 * 100, 33);
        var bigY = TestData.Poisoned<float>(bigX.Length);
        int allocations = 0;
        backend.StagingAllocator = bytes => ++allocations == 2 ? throw OutOfMemory(kind) : accelerator.Allocate1D<byte>(bytes);

        var ex = Assert.Throws<InsufficientMemoryException>(() => backend.Forward<float>(big, ElementType.Float32, bigX, w, bigY));
        Assert.Contains("16000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("on cuda (Tiny GPU)", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"device memory {3L << 30} bytes (3 GiB)", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
        Assert.All(bigY, v => Assert.Equal(TestData.Poison, v));
        Assert.Equal(0, backend.StagedBytes);

        // The device is usable again once memory is there.
        backend.StagingAllocator = null;
        backend.Forward<float>(big, ElementType.Float32, bigX, w, bigY);
        Check.AssertClose(bigX, [40, 100], [100], w, 1e-6, 1, bigY, "after an out-of-memory failure");
        backend.Dispose();
        Assert.Equal(0, backend.StagedBytes);
    }

    [Fact]
    public void OtherAllocationFailures_AreNotDisguisedAsOutOfMemory()
    {
        Assert.False(DeviceCatalog.IsOutOfMemory(new CLException(CLError.CL_INVALID_CONTEXT)));
        Assert.False(DeviceCatalog.IsOutOfMemory(new InvalidOperationException("out of memory")));
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var backend = new IlgpuBackend(FakeCuda, accelerator) { StagingAllocator = _ => throw new CLException(CLError.CL_INVALID_CONTEXT) };
        var y = new float[3];
        Assert.Throws<CLException>(() => backend.Forward<float>(RmsNormProblem.Create([1, 3], [3], 1, 1e-6), ElementType.Float32, [1f, 2f, 3f], default, y));
        Assert.Equal(new float[3], y);
    }

    [Fact]
    public void Auto_OutOfDeviceMemory_FallsBackToTheHost_AndSaysWhy()
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda
            ? new IlgpuBackend(info, accelerator) { StagingAllocator = _ => throw OutOfMemory("managed") }
            : Working(info));
        var x = TestData.Random<float>(2 * 64, 41);
        var y = TestData.Poisoned<float>(x.Length);
        dispatcher.Execute<float>(null, RmsNormProblem.Create([2, 64], [64], 1, 1e-6), ElementType.Float32, x, default, y);
        Check.AssertClose(x, [2, 64], [64], [], 1e-6, 1, y, "after out-of-memory fallback");
        Assert.Contains(dispatcher.Messages, m => m.Contains("InsufficientMemoryException", StringComparison.Ordinal) && m.Contains("512 bytes", StringComparison.Ordinal));

        // One oversized call does not drop the device: the next call goes to it again.
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select().Device.Kind);
        Assert.DoesNotContain(dispatcher.Messages, m => m.Contains("dropped", StringComparison.Ordinal));
    }

    /// <summary>Runs on the forward path, or on the generic one with an operation that stages its own result first.</summary>
    private static void Run(DeviceDispatcher dispatcher, string path, DeviceRequest? request, RmsNormProblem problem, float[] x, float[] w, float[] y)
    {
        if (path == "forward")
        {
            dispatcher.Execute<float>(request, problem, ElementType.Float32, x, w, y);
            return;
        }

        var call = new StagedCall(problem, x, w, y);
        dispatcher.Execute(request, ref call, static (IComputeBackend backend, ref StagedCall c) =>
        {
            var result = new float[c.Y.Length];
            backend.Forward<float>(c.Problem, ElementType.Float32, c.X, c.W, result);
            result.CopyTo(c.Y);
        });
    }

    /// <summary>A generic-path operation's arguments (what the fused and backward operations look like).</summary>
    private readonly ref struct StagedCall(RmsNormProblem problem, ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y)
    {
        public RmsNormProblem Problem { get; } = problem;

        public ReadOnlySpan<float> X { get; } = x;

        public ReadOnlySpan<float> W { get; } = w;

        public Span<float> Y { get; } = y;
    }

    /// <summary>
    /// A device that fails when its kernel compiles, or in its launch. By default the launch fault first scribbles over
    /// half the destination, the worst a broken driver could do: auto mode must still leave a complete, correct result.
    /// </summary>
    private sealed class FaultyBackend(DeviceInfo info, string fault, bool writesBeforeFailing = true) : IComputeBackend
    {
        public bool Disposed { get; private set; }

        public int Runs { get; private set; }

        public DeviceInfo Info { get; } = info;

        public void Forward<T>(scoped in ForwardRequest<T> request)
            where T : unmanaged
        {
            Runs++;
            var y = request.Y;
            if (fault == "compile")
            {
                throw new NotSupportedException("kernel did not compile for this device (injected)");
            }

            if (writesBeforeFailing)
            {
                y[..(y.Length / 2)].Fill(Elements.FromDouble<T>(-1234));
            }

            throw new InvalidOperationException("CUDA_ERROR_LAUNCH_FAILED (injected)");
        }

        public void Dispose() => Disposed = true;
    }

    private sealed class RecordingBackend(DeviceInfo info) : IComputeBackend
    {
        public bool Disposed { get; private set; }

        public int Runs { get; private set; }

        public DeviceInfo Info { get; } = info;

        public void Forward<T>(scoped in ForwardRequest<T> request)
            where T : unmanaged
        {
            Runs++;
            throw new NotSupportedException("kernel did not compile for this device");
        }

        public void Dispose() => Disposed = true;
    }
}
