using IlgpuNorm.Cli;
using IlgpuNorm.Cli.Commands;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

public sealed class DevicesAndDemoCommandTests
{
    [Fact]
    public void Devices_ListsHostAndCpu_AndTheAutoChoice()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Success, DevicesCommand.Execute(stdout, stderr));
        string text = stdout.ToString();
        Assert.Contains("host", text, StringComparison.Ordinal);
        Assert.Contains("cpu", text, StringComparison.Ordinal);
        Assert.Contains("auto picks", text, StringComparison.Ordinal);
        Assert.Contains("max group", text, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr.ToString());
    }

    [Fact]
    public void Devices_ThroughTheCommandLine()
    {
        var result = CliResult.Run("devices");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("auto", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "-")]
    [InlineData(512, "512 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(80L << 30, "80 GiB")]
    public void FormatBytes(long bytes, string expected) => Assert.Equal(expected, DevicesCommand.FormatBytes(bytes));

    [Fact]
    public void Demo_OnTheCpuAccelerator_UsesASmallerShape_AndPasses()
    {
        var result = CliResult.Run("demo", "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("[64, 4096]", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("GB/s", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("ok", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_OnHost_Passes()
    {
        var result = CliResult.Run("demo", "--device", "host");
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("[4096, 4096]", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("median", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_UnknownDevice_IsAUsageError() =>
        CliResult.Run("demo", "--device", "gpu").AssertError(ExitCodes.Usage, "--device");
}
