using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>Bad arguments of the quantized and backward APIs: a clear exception naming the parameter, before any work.</summary>
public class QuantizeValidationTests
{
    private static readonly float[] X = [1, 2, 3, 4, 5, 6];

    [Fact]
    public void Quantized_BadArguments_Throw_AndLeaveOutputsUntouched()
    {
        var codes = new byte[6];
        Array.Fill(codes, (byte)0x55);
        var scales = new float[2];
        var dynamic = new QuantizeOptions();

        Assert.Throws<ArgumentNullException>("quantize", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales, null!));
        var e1 = Assert.Throws<ArgumentException>("destination", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes.AsSpan(0, 5), scales, dynamic));
        Assert.Contains("at least 6", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>("scales", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales.AsSpan(0, 1), dynamic));
        Assert.Contains("got 1", e2.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("scales", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, default, dynamic));
        Assert.Throws<ArgumentOutOfRangeException>("quantize", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales, new QuantizeOptions { StaticScale = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>("quantize", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales, new QuantizeOptions { StaticScale = float.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>("quantize", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales, new QuantizeOptions { Clamp = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>("quantize", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, codes, scales, new QuantizeOptions { Format = (QuantizeFormat)7 }));
        Assert.Throws<ArgumentException>("weight", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], [1f, 2f], codes, scales, dynamic));
        Assert.Throws<ArgumentException>("input", () => RmsNormQuantized.Compute<float>(X, [3, 3], [3], default, codes, scales, dynamic));
        Assert.Throws<ArgumentException>("input", () => RmsNormQuantized.Compute<int>([1, 2, 3], [1, 3], [3], default, codes, scales, dynamic));
        Assert.Throws<ArgumentException>("destination", () => RmsNormQuantized.Compute<float>(X, [2, 3], [3], default, new sbyte[6], scales, new QuantizeOptions { Format = QuantizeFormat.Float8E4M3 }));
        Assert.All(codes, c => Assert.Equal(0x55, c));
    }

    [Fact]
    public void Quantized_ScalesOverlappingTheInput_Throw()
    {
        var buffer = new float[8];
        buffer.AsSpan(0, 6).Fill(1);
        var codes = new byte[6];
        var e = Assert.Throws<ArgumentException>("scales", () =>
            RmsNormQuantized.Compute<float>(buffer.AsSpan(0, 6), [2, 3], [3], default, codes, buffer.AsSpan(5, 2), new QuantizeOptions()));
        Assert.Contains("overlap input", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_BadArguments_Throw_AndLeaveOutputsUntouched()
    {
        var dy = new float[] { 1, 1, 1, 1, 1, 1 };
        var dx = new float[6];
        Array.Fill(dx, 7f);
        var dw = new float[3];
        Array.Fill(dw, 7f);
        float[] w = [1, 2, 3];
        Assert.Throws<ArgumentException>("dy", () => RmsNormBackward.Compute<float>(dy.AsSpan(0, 5), X, [2, 3], [3], w, dx, dw));
        Assert.Throws<ArgumentException>("dx", () => RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, dx.AsSpan(0, 5), dw));
        Assert.Throws<ArgumentException>("dweight", () => RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, dx, dw.AsSpan(0, 2)));
        var e = Assert.Throws<ArgumentException>("dweight", () => RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], default, dx, dw));
        Assert.Contains("empty dweight", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("rstd", () => RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, dx, dw, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>("numGroups", () => RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, dx, dw, default, new RmsNormOptions { NumGroups = 0 }));
        Assert.Throws<ArgumentException>("rstd", () => RmsNormBackward.ComputeRstd<float>(X, [2, 3], [3], new float[1]));
        Assert.All(dx, v => Assert.Equal(7f, v));
        Assert.All(dw, v => Assert.Equal(7f, v));
    }

    [Fact]
    public void Backward_DxPartlyOverlappingDy_Throws_ButInPlaceWorks()
    {
        var buffer = new float[7];
        buffer.AsSpan().Fill(0.5f);
        float[] w = [1, 2, 3];
        var dw = new float[3];
        var e = Assert.Throws<ArgumentException>("dx", () => RmsNormBackward.Compute<float>(buffer.AsSpan(0, 6), X, [2, 3], [3], w, buffer.AsSpan(1, 6), dw));
        Assert.Contains("partly overlaps dy", e.Message, StringComparison.Ordinal);
        var dy = new float[] { 0.5f, -1, 2, 0.25f, 3, -2 };
        var expected = new float[6];
        var expectedDw = new float[3];
        RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, expected, expectedDw, default, new RmsNormOptions { Device = DeviceRequest.Parse("host") });
        RmsNormBackward.Compute<float>(dy, X, [2, 3], [3], w, dy, dw, default, new RmsNormOptions { Device = DeviceRequest.Parse("host") });
        Assert.Equal(expected, dy);
        Assert.Equal(expectedDw, dw);
    }
}
