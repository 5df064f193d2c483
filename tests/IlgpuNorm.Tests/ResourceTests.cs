using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Runtime;
using IlgpuNorm.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuNorm.Tests;

/// <summary>
/// Many calls leave managed memory, process memory and the device's staging memory flat (generous bounds: this is a
/// leak check, not a benchmark); Dispose is idempotent, use after dispose throws, finalizers cannot crash the process.
/// </summary>
[Collection(Load.ProcessWide.Name)]
public class ResourceTests(ITestOutputHelper output)
{
    private const long ManagedBound = 8L << 20;
    private const long ProcessBound = 64L << 20;

    public static TheoryData<string, int> BackendsAndCalls()
    {
        var data = new TheoryData<string, int>();
        foreach (string backend in Backends.Names)
        {
            data.Add(backend, backend == "host" ? 100_000 : Backends.IsSlow(backend) ? 1_000 : 5_000);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BackendsAndCalls))]
    public void ManyCalls_LeaveManagedProcessAndDeviceMemoryFlat(string backend, int calls)
    {
        var x = TestData.Random<float>(4 * 64, 1);
        var w = TestData.Random<float>(64, 2);
        var y = new float[x.Length];
        var options = Backends.Options(backend);
        for (int i = 0; i < 200; i++)
        {
            RmsNorm.Compute<float>(x, [4, 64], [64], w, y, options);
        }

        var before = Measure(options);
        for (int i = 0; i < calls; i++)
        {
            RmsNorm.Compute<float>(x, [4, 64], [64], w, y, options);
        }

        var after = Measure(options);
        output.WriteLine($"{backend}: {calls} calls: managed {before.Managed / 1024} -> {after.Managed / 1024} KiB, " +
            $"working set {before.WorkingSet >> 20} -> {after.WorkingSet >> 20} MiB, private {before.Private >> 20} -> {after.Private >> 20} MiB, " +
            $"device staging {before.Staged} -> {after.Staged} bytes");
        Assert.True(after.Managed - before.Managed < ManagedBound, $"managed memory grew by {(after.Managed - before.Managed) / 1024} KiB over {calls} calls");
        Assert.True(after.Private - before.Private < ProcessBound, $"private memory grew by {(after.Private - before.Private) >> 20} MiB over {calls} calls");
        Assert.True(after.WorkingSet - before.WorkingSet < ProcessBound, $"the working set grew by {(after.WorkingSet - before.WorkingSet) >> 20} MiB over {calls} calls");
        Assert.Equal(before.Staged, after.Staged);
        Check.AssertClose(x, [4, 64], [64], w, RmsNormOptions.DefaultEpsilon, 1, y, $"after {calls} calls");
    }

    [Fact]
    public void StagingBuffers_GrowToTheLargestCall_AndAreFreedOnDispose()
    {
        using var dispatcher = new DeviceDispatcher(new CPUDevice(4, 4, 1));
        var backend = Assert.IsType<IlgpuBackend>(dispatcher.Resolve(DeviceRequest.Cpu).Backend);
        var problem = Planning.RmsNormProblem.Create([8, 100], [100], 1, 1e-6);
        var x = TestData.Random<float>(800, 3);
        var w = TestData.Random<float>(100, 4);
        var y = new float[800];
        dispatcher.Execute<float>(DeviceRequest.Cpu, problem, ElementType.Float32, x, w, y);
        Assert.Equal(3200 + 400 + 3200, backend.StagedBytes);

        // Smaller calls reuse the buffers.
        dispatcher.Execute<float>(DeviceRequest.Cpu, Planning.RmsNormProblem.Create([2, 100], [100], 1, 1e-6), ElementType.Float32, x.AsSpan(0, 200), w, y);
        Assert.Equal(6800, backend.StagedBytes);
        dispatcher.Dispose();
        Assert.Equal(0, backend.StagedBytes);
    }

    [Fact]
    public void Dispose_IsIdempotent_AndUseAfterDisposeThrowsObjectDisposed()
    {
        var dispatcher = new DeviceDispatcher(new CPUDevice(4, 4, 1));
        var kernels = dispatcher.KernelsFor(DeviceRequest.Cpu)!;
        var accelerator = kernels.Accelerator;
        using var buffer = accelerator.Allocate1D<float>(8);
        var problem = Planning.RmsNormProblem.Create([2, 4], [4], 1, 1e-6);
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        float[] y = new float[8];
        dispatcher.Execute<float>(DeviceRequest.Cpu, problem, ElementType.Float32, x, default, y);

        dispatcher.Dispose();
        dispatcher.Dispose();
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Devices);
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Select());
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Select(DeviceRequest.Host));
        Assert.Throws<ObjectDisposedException>(() => dispatcher.KernelsFor(DeviceRequest.Cpu));
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Execute<float>(DeviceRequest.Host, problem, ElementType.Float32, x, default, y));

        // The dispatcher's kernels went with it.
        Assert.Throws<ObjectDisposedException>(kernels.Preload);
        kernels.Dispose();

        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var own = context.CreateCPUAccelerator(0);
        var mine = new RmsNormKernels(own);
        using var view = own.Allocate1D<float>(8);
        mine.Compute(view.View.BaseView, [2, 4], [4], default, view.View.BaseView);
        mine.Dispose();
        mine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mine.Compute(view.View.BaseView, [2, 4], [4], default, view.View.BaseView));
        Assert.Throws<ObjectDisposedException>(mine.Preload);
    }

    /// <summary>Dispatchers, kernels and accelerators dropped without Dispose: their finalizers run and the process goes on.</summary>
    [Fact]
    public void AbandonedDeviceObjects_AreCollectedWithoutCrashing()
    {
        for (int i = 0; i < 3; i++)
        {
            Abandon(i);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        // Still working afterwards, on a fresh dispatcher and on the shared one.
        using var dispatcher = new DeviceDispatcher(new CPUDevice(4, 4, 1));
        var x = TestData.Random<float>(64, 5);
        var y = TestData.Poisoned<float>(64);
        dispatcher.Execute<float>(DeviceRequest.Cpu, Planning.RmsNormProblem.Create([2, 32], [32], 1, 1e-6), ElementType.Float32, x, default, y);
        Check.AssertClose(x, [2, 32], [32], [], 1e-6, 1, y, "after finalizers ran");
        Check.AgainstReference("cpu", x, [2, 32], [32], []);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Abandon(int seed)
    {
        var dispatcher = new DeviceDispatcher(new CPUDevice(4, 4, 1));
        var x = TestData.Random<float>(66, seed);
        var y = new float[66];
        dispatcher.Execute<float>(DeviceRequest.Cpu, Planning.RmsNormProblem.Create([2, 33], [33], 1, 1e-6), ElementType.Float32, x, default, y);
        var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        var accelerator = context.CreateCPUAccelerator(0);
        var kernels = new RmsNormKernels(accelerator);
        kernels.Preload();
        _ = accelerator.Allocate1D<float>(1024);
    }

    private static (long Managed, long WorkingSet, long Private, long Staged) Measure(RmsNormOptions options)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        long staged = (DeviceDispatcher.Shared.Resolve(options.Device).Backend as IlgpuBackend)?.StagedBytes ?? 0;
        return (managed, process.WorkingSet64, process.PrivateMemorySize64, staged);
    }
}
