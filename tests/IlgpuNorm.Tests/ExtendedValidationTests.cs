using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Bad input to the extended entries: a clear exception naming the parameter, thrown before any work, with the caller's data unchanged.</summary>
public sealed class ExtendedValidationTests : IDisposable
{
    private readonly float[] x = TestData.Random<float>(2 * 8, 1);
    private readonly float[] residual = TestData.Random<float>(2 * 8, 2);
    private readonly float[] w = TestData.Random<float>(8, 3);
    private readonly float[] b = TestData.Random<float>(8, 4);
    private readonly float[] y = TestData.Poisoned<float>(2 * 8);
    private readonly float[] residualBefore;
    private readonly float[] yBefore;
    private readonly RmsNormOptions host = new() { Device = DeviceRequest.Host };

    public ExtendedValidationTests()
    {
        residualBefore = (float[])residual.Clone();
        yBefore = (float[])y.Clone();
    }

    public void Dispose()
    {
        // Every failing call left the caller's buffers as they were.
        Assert.Equal(residualBefore, residual);
        Assert.Equal(yBefore, y);
    }

    [Fact]
    public void FusedAdd_ResidualOfTheWrongLength_NamesResidual()
    {
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.ComputeFusedAdd<float>(x, residual.AsSpan(0, 15), [2, 8], [8], w, default, y, host));
        Assert.Equal("residual", ex.ParamName);
        Assert.Contains("16", ex.Message, StringComparison.Ordinal);
        Assert.Contains("15", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FusedAdd_ResidualOverlappingTheOutput_Throws()
    {
        var buffer = TestData.Random<float>(40, 5);
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.ComputeFusedAdd<float>(x, buffer.AsSpan(0, 16), [2, 8], [8], w, default, buffer.AsSpan(8, 16), host));
        Assert.Equal("residual", ex.ParamName);
        Assert.Contains("destination", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FusedAdd_ResidualThatIsTheInput_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.ComputeFusedAdd<float>(residual, residual, [2, 8], [8], w, default, y, host));
        Assert.Equal("residual", ex.ParamName);
        Assert.Contains("input", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Destination_PartlyOverlappingTheInput_Throws()
    {
        var buffer = TestData.Random<float>(40, 6);
        var before = (float[])buffer.Clone();
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.Compute<float>(buffer.AsSpan(0, 16), [2, 8], [8], w, b, buffer.AsSpan(4, 16), host));
        Assert.Equal("destination", ex.ParamName);
        Assert.Equal(before, buffer);
    }

    [Theory]
    [InlineData(7, "bias")]
    [InlineData(9, "bias")]
    public void Bias_OfTheWrongLength_NamesBias(int length, string param)
    {
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.Compute<float>(x, [2, 8], [8], w, new float[length], y, host));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains($"got {length}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void WeightOffset_NotFinite_Throws(float offset)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.Compute<float>(x, [2, 8], [8], w, b, y, host with { WeightOffset = offset }));
        Assert.Equal("options", ex.ParamName);
        Assert.Contains("WeightOffset", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WeightOffset_WithoutAWeight_Throws_AlsoOnTheOriginalOverload()
    {
        var options = host with { WeightOffset = 1 };
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => RmsNorm.Compute<float>(x, [2, 8], [8], default, b, y, options)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => RmsNorm.Compute<float>(x, [2, 8], [8], default, y, options)).ParamName);
    }

    [Fact]
    public void Policy_Undefined_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.Compute<float>(x, [2, 8], [8], w, b, y, host with { Policy = (RmsNormPolicy)7 }));
        Assert.Equal("options", ex.ParamName);
        Assert.Contains("7", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7, 8, "InputRowStride")]
    [InlineData(8, 0, "OutputRowStride")]
    public void Rows_StrideBelowHidden_Throws(int inStride, int outStride, string name)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.ComputeRows<float>(x, new RmsNormRowLayout(2, 8, inStride, outStride), w, default, y, host));
        Assert.Equal("layout", ex.ParamName);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_ResidualStrideBelowHidden_Throws()
    {
        var layout = new RmsNormRowLayout(2, 8, 8, 8) { ResidualRowStride = 5 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.ComputeRowsFusedAdd<float>(x, residual, layout, w, default, y, host));
        Assert.Contains("ResidualRowStride", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_BuffersTooShortForTheLayout_NameTheBuffer()
    {
        var layout = new RmsNormRowLayout(2, 8, 10, 12);
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => RmsNorm.ComputeRows<float>(x.AsSpan(0, 15), layout, w, default, y, host)).ParamName);
        var longX = TestData.Random<float>(18, 7);
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.ComputeRows<float>(longX, layout, w, default, y, host));
        Assert.Equal("destination", ex.ParamName);
        Assert.Contains("20", ex.Message, StringComparison.Ordinal);
        Assert.Equal("residual", Assert.Throws<ArgumentException>(() => RmsNorm.ComputeRowsFusedAdd<float>(longX, residual, layout, w, default, new float[20], host)).ParamName);
    }

    [Fact]
    public void Rows_InPlaceWithADifferentStride_IsAPartialOverlap()
    {
        var buffer = TestData.Random<float>(40, 8);
        var before = (float[])buffer.Clone();
        var ex = Assert.Throws<ArgumentException>(() => RmsNorm.ComputeRows<float>(buffer, new RmsNormRowLayout(2, 8, 10, 12), w, default, buffer, host));
        Assert.Equal("destination", ex.ParamName);
        Assert.Equal(before, buffer);
    }

    [Fact]
    public void Rows_NegativeRowsOrZeroHidden_Throw()
    {
        Assert.Equal("layout", Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.ComputeRows<float>(x, new RmsNormRowLayout(-1, 8, 8, 8), w, default, y, host)).ParamName);
        Assert.Equal("layout", Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.ComputeRows<float>(x, new RmsNormRowLayout(2, 0, 8, 8), default, default, y, host)).ParamName);
    }

    [Fact]
    public void Rows_ZeroRows_WritesNothing()
    {
        RmsNorm.ComputeRows<float>(default, new RmsNormRowLayout(0, 8, 8, 8), w, default, y, host);
        Assert.Equal(yBefore, y);
    }

    [Fact]
    public void DeviceApi_RejectsTheSameMistakes_BeforeLaunching()
    {
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        using var input = accelerator.Allocate1D(x);
        using var res = accelerator.Allocate1D(residual);
        using var weight = accelerator.Allocate1D(w);
        using var output = accelerator.Allocate1D(y);
        var iv = input.View.BaseView;
        var rv = res.View.BaseView;
        var wv = weight.View.BaseView;
        var ov = output.View.BaseView;
        Assert.Equal("residual", Assert.Throws<ArgumentException>(() => kernels.ComputeFusedAdd(iv, rv.SubView(0, 15), [2, 8], [8], wv, default, ov)).ParamName);
        Assert.Equal("residual", Assert.Throws<ArgumentException>(() => kernels.ComputeFusedAdd(iv, iv, [2, 8], [8], wv, default, ov)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => kernels.Compute(iv, [2, 8], [8], wv, default, iv.SubView(0, 15), null)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => kernels.ComputeRows(iv.SubView(0, 8), default, new RmsNormRowLayout(1, 8, 8, 8), wv, default, iv.SubView(4, 8))).ParamName);
        Assert.Equal("layout", Assert.Throws<ArgumentOutOfRangeException>(() => kernels.ComputeRows(iv, default, new RmsNormRowLayout(2, 8, 7, 8), wv, default, ov)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => kernels.Compute(iv, [2, 8], [8], wv, default, ov, new RmsNormOptions { WeightOffset = float.NaN })).ParamName);
        Assert.Equal(residualBefore, res.GetAsArray1D());
        Assert.Equal(yBefore, output.GetAsArray1D());

        kernels.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernels.ComputeFusedAdd(iv, rv, [2, 8], [8], wv, default, ov));
        Assert.Throws<ObjectDisposedException>(() => kernels.ComputeRows(iv, default, RmsNormRowLayout.Contiguous(2, 8), wv, default, ov));
        Assert.Equal(residualBefore, res.GetAsArray1D());
    }
}
