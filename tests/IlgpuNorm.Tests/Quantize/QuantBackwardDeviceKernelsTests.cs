using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Tests.Backward;
using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>The device-resident quantize and backward APIs on ILGPU's CPU accelerator (always present; never skipped).</summary>
public sealed class QuantBackwardDeviceKernelsTests : IDisposable
{
    private readonly Context context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 2)));
    private readonly CPUAccelerator accelerator;

    public QuantBackwardDeviceKernelsTests() => accelerator = context.CreateCPUAccelerator(0);

    public void Dispose()
    {
        accelerator.Dispose();
        context.Dispose();
    }

    [Fact]
    public void Quantize_OnDeviceViews_MatchesReference_AndThrowsAfterDispose()
    {
        int rows = 5, hidden = 67;
        var x = TestData.Random<float>(rows * hidden, 1);
        var w = TestData.Random<float>(hidden, 2);
        var kernels = new RmsNormQuantizeKernels(accelerator);
        using var input = accelerator.Allocate1D(x);
        using var weight = accelerator.Allocate1D(w);
        using var codes = accelerator.Allocate1D(Enumerable.Repeat((byte)0xFF, x.Length).ToArray());
        using var scales = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, rows).ToArray());
        foreach (var format in new[] { QuantizeFormat.Int8, QuantizeFormat.Float8E4M3 })
        {
            var options = new QuantizeOptions { Format = format };
            kernels.Compute(input.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, codes.View.BaseView, scales.View.BaseView, options);
            accelerator.Synchronize();
            var result = QuantReference.Check<float>(x, [rows, hidden], [hidden], w, options, RmsNormOptions.DefaultEpsilon, 1, codes.GetAsArray1D(), scales.GetAsArray1D());
            Assert.True(result.Passed, result.FirstFailure);
        }

        var e = Assert.Throws<ArgumentException>("scales", () => kernels.Compute(input.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, codes.View.BaseView, default, new QuantizeOptions()));
        Assert.Contains("at least 5", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("output", () => kernels.Compute(input.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, codes.View.BaseView.SubView(0, 10), scales.View.BaseView, new QuantizeOptions()));
        kernels.Dispose();
        kernels.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernels.Compute(input.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, codes.View.BaseView, scales.View.BaseView, new QuantizeOptions()));
        Assert.Throws<ObjectDisposedException>(kernels.Preload);
    }

    [Fact]
    public void Backward_AndRstd_OnDeviceViews_MatchReference_AndThrowAfterDispose()
    {
        int rows = 6, hidden = 40;
        var x = TestData.Random<float>(rows * hidden, 3);
        var dy = TestData.Random<float>(rows * hidden, 4);
        var w = TestData.Random<float>(hidden, 5);
        var kernels = new RmsNormBackwardKernels(accelerator);
        using var xBuffer = accelerator.Allocate1D(x);
        using var dyBuffer = accelerator.Allocate1D(dy);
        using var wBuffer = accelerator.Allocate1D(w);
        using var rstd = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, rows).ToArray());
        using var dx = accelerator.Allocate1D(TestData.Poisoned<float>(x.Length));
        using var dw = accelerator.Allocate1D(TestData.Poisoned<float>(hidden));
        kernels.ComputeRstd(xBuffer.View.BaseView, [rows, hidden], [hidden], rstd.View.BaseView);
        kernels.Compute(dyBuffer.View.BaseView, xBuffer.View.BaseView, [rows, hidden], [hidden], wBuffer.View.BaseView, rstd.View.BaseView, dx.View.BaseView, dw.View.BaseView);
        accelerator.Synchronize();
        var expected = BackwardReference.Compute<float>(dy, x, [rows, hidden], [hidden], w, savedRstd: true);
        var dxs = dx.GetAsArray1D();
        var dws = dw.GetAsArray1D();
        for (int i = 0; i < dxs.Length; i++)
        {
            Assert.True(BackwardReference.Accepts(dxs[i], expected.Dx[i], expected.DxBound[i]), $"dx[{i}] = {dxs[i]}, expected {expected.Dx[i]}");
        }

        for (int j = 0; j < hidden; j++)
        {
            Assert.True(BackwardReference.Accepts(dws[j], expected.Dweight[j], expected.DweightBound[j]), $"dweight[{j}] = {dws[j]}, expected {expected.Dweight[j]}");
        }

        // The host path agrees within the same tolerance (and the device call left its inputs alone).
        var (hostDx, _) = BackwardCheck.AgainstReference("host", dy, x, [rows, hidden], [hidden], w);
        Assert.Equal(hostDx.Length, dxs.Length);
        Assert.Throws<ArgumentException>("dweight", () => kernels.Compute(dyBuffer.View.BaseView, xBuffer.View.BaseView, [rows, hidden], [hidden], default, default, dx.View.BaseView, dw.View.BaseView));
        Assert.Throws<ArgumentException>("rstd", () => kernels.Compute(dyBuffer.View.BaseView, xBuffer.View.BaseView, [rows, hidden], [hidden], wBuffer.View.BaseView, rstd.View.BaseView.SubView(0, 2), dx.View.BaseView, dw.View.BaseView));
        kernels.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernels.ComputeRstd(xBuffer.View.BaseView, [rows, hidden], [hidden], rstd.View.BaseView));
    }
}
