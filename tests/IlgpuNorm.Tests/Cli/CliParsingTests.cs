using IlgpuNorm.Cli;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

public sealed class CliParsingTests
{
    [Theory]
    [InlineData("64", new[] { 64 })]
    [InlineData("4,5", new[] { 4, 5 })]
    [InlineData(" 4 , 5 ", new[] { 4, 5 })]
    [InlineData("[2, 3, 4]", new[] { 2, 3, 4 })]
    [InlineData("(7,)", new[] { 7 })]
    public void Shape_Parses(string text, int[] expected) => Assert.Equal(expected, CliParsing.Shape("--normalized-shape", text));

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("4,")]
    [InlineData("4,,5")]
    [InlineData("4x5")]
    [InlineData("99999999999")]
    public void Shape_Rejects(string text)
    {
        var error = Assert.Throws<UsageException>(() => CliParsing.Shape("--normalized-shape", text));
        Assert.StartsWith("--normalized-shape: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e-5", 1e-5)]
    [InlineData("0", 0.0)]
    [InlineData(null, RmsNormOptions.DefaultEpsilon)]
    public void Epsilon_Parses(string? text, double expected) => Assert.Equal(expected, CliParsing.Epsilon("--eps", text));

    [Theory]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1,5")]
    [InlineData("")]
    public void Epsilon_Rejects(string text) => Assert.Throws<UsageException>(() => CliParsing.Epsilon("--eps", text));

    [Fact]
    public void Device_ParsesOrNamesTheOption()
    {
        Assert.Equal(DeviceRequest.Auto, CliParsing.Device("--device", null));
        Assert.Equal(new DeviceRequest(DeviceKind.Cuda, 1), CliParsing.Device("--device", "cuda:1"));
        Assert.Contains("--device", Assert.Throws<UsageException>(() => CliParsing.Device("--device", "host:1")).Message, StringComparison.Ordinal);
    }
}
