using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Half = System.Half;
using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The device-resident API on ILGPU's CPU accelerator (always present; never skipped).</summary>
public sealed class RmsNormKernelsTests : IDisposable
{
    private readonly Context context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 2)));
    private readonly CPUAccelerator accelerator;

    public RmsNormKernelsTests() => accelerator = context.CreateCPUAccelerator(0);

    public void Dispose()
    {
        accelerator.Dispose();
        context.Dispose();
    }

    [Fact]
    public void Compute_OnDeviceViews_MatchesReference_ForEveryDtype()
    {
        using var kernels = new RmsNormKernels(accelerator);
        Run<float>(kernels);
        Run<double>(kernels);
        Run<ILGPU.Half>(kernels, convert: true);
        Run<BFloat16>(kernels);
    }

    private void Run<T>(RmsNormKernels kernels, bool convert = false)
        where T : unmanaged
    {
        int rows = 5, hidden = 67;
        if (convert)
        {
            // ILGPU.Half shares System.Half's bits; build data as System.Half and reinterpret.
            var xs = TestData.Random<Half>(rows * hidden, 1);
            var ws = TestData.Random<Half>(hidden, 2);
            var got = Launch(kernels, Reinterpret<Half, T>(xs), Reinterpret<Half, T>(ws), rows, hidden);
            Check.AssertClose(xs, [rows, hidden], [hidden], ws, RmsNormOptions.DefaultEpsilon, 1, Reinterpret<T, Half>(got), "ILGPU.Half views");
            return;
        }

        var x = TestData.Random<T>(rows * hidden, 1);
        var w = TestData.Random<T>(hidden, 2);
        Check.AssertClose(x, [rows, hidden], [hidden], w, RmsNormOptions.DefaultEpsilon, 1, Launch(kernels, x, w, rows, hidden), typeof(T).Name + " views");
    }

    private T[] Launch<T>(RmsNormKernels kernels, T[] x, T[] w, int rows, int hidden)
        where T : unmanaged
    {
        using var input = accelerator.Allocate1D(x);
        using var weight = accelerator.Allocate1D(w);
        using var output = accelerator.Allocate1D(TestData.Poisoned<T>(x.Length));
        kernels.Compute(input.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, output.View.BaseView);
        accelerator.Synchronize();
        return output.GetAsArray1D();
    }

    private static TTo[] Reinterpret<TFrom, TTo>(TFrom[] source)
        where TFrom : unmanaged
        where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(source).ToArray();

    [Fact]
    public void Compute_WithoutWeight_UsesDefaultView()
    {
        using var kernels = new RmsNormKernels(accelerator);
        var x = TestData.Random<float>(3 * 40, 5);
        using var input = accelerator.Allocate1D(x);
        using var output = accelerator.Allocate1D<float>(x.Length);
        kernels.Compute(input.View.BaseView, [3, 40], [40], default, output.View.BaseView);
        accelerator.Synchronize();
        Check.AssertClose(RmsNormReference.Compute<float>(x, [3, 40], [40], default), output.GetAsArray1D(), "no weight");
    }

    [Fact]
    public void Compute_Validates_BeforeLaunching()
    {
        using var kernels = new RmsNormKernels(accelerator);
        using var input = accelerator.Allocate1D<float>(12);
        using var shortOutput = accelerator.Allocate1D<float>(11);
        using var badWeight = accelerator.Allocate1D<float>(5);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => kernels.Compute(input.View.BaseView, [3, 4], [4], default, shortOutput.View.BaseView)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => kernels.Compute(input.View.BaseView, [3, 4], [4], badWeight.View.BaseView, input.View.BaseView)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => kernels.Compute(input.View.BaseView, [3, 5], [5], default, input.View.BaseView)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => kernels.Compute(input.View.BaseView.Cast<int>(), [3, 4], [4], default, input.View.BaseView.Cast<int>())).ParamName);
    }

    [Fact]
    public void Compute_EmptyBatch_TakesEmptyViews_AndWritesNothing()
    {
        using var kernels = new RmsNormKernels(accelerator);
        using var weight = accelerator.Allocate1D(new float[] { 1, 2, 3, 4 });
        using var output = accelerator.Allocate1D(new float[] { 7, 7, 7, 7 });
        kernels.Compute(default(ArrayView<float>), [0, 4], [4], weight.View.BaseView, output.View.BaseView);
        kernels.Compute(default(ArrayView<float>), [0, 4], [4], default, default(ArrayView<float>));
        accelerator.Synchronize();
        Assert.Equal([7f, 7f, 7f, 7f], output.GetAsArray1D());
    }

    [Fact]
    public void Compute_RejectsViewsOfAnotherAccelerator()
    {
        using var otherContext = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var other = otherContext.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        using var foreign = other.Allocate1D<float>(8);
        using var local = accelerator.Allocate1D<float>(8);
        var ex = Assert.Throws<ArgumentException>(() => kernels.Compute(foreign.View.BaseView, [2, 4], [4], default, local.View.BaseView));
        Assert.Equal("input", ex.ParamName);
    }

    [Fact]
    public void Dispose_IsIdempotent_AndUseAfterDisposeThrows()
    {
        var kernels = new RmsNormKernels(accelerator);
        using var buffer = accelerator.Allocate1D<float>(8);
        kernels.Dispose();
        kernels.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernels.Compute(buffer.View.BaseView, [2, 4], [4], default, buffer.View.BaseView));
        Assert.Throws<ObjectDisposedException>(kernels.Preload);
    }

    [Fact]
    public void ThousandsOfCalls_ReuseTheLoadedKernel_AndStayCorrect()
    {
        using var kernels = new RmsNormKernels(accelerator);
        kernels.Preload();
        var x = TestData.Random<float>(2 * 8, 3);
        using var input = accelerator.Allocate1D(x);
        using var output = accelerator.Allocate1D<float>(x.Length);
        for (int i = 0; i < 2000; i++)
        {
            kernels.Compute(input.View.BaseView, [2, 8], [8], default, output.View.BaseView);
        }

        accelerator.Synchronize();
        Check.AssertClose(RmsNormReference.Compute<float>(x, [2, 8], [8], default), output.GetAsArray1D(), "after 2000 calls");
    }
}
