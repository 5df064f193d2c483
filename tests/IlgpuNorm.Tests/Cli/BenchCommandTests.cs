using System.Text.Json;
using IlgpuNorm.Benchmarking;
using IlgpuNorm.Cli;
using IlgpuNorm.Cli.Bench;
using IlgpuNorm.Cli.Commands;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

public sealed class BenchCommandTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string directory = Directory.CreateTempSubdirectory("cli-bench-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Bench_TinyHostRun_PrintsATable_WritesJsonAndPng()
    {
        string json = Path.Combine(directory, "bench.json");
        string png = Path.Combine(directory, "bench.png");
        File.WriteAllText(json, "old"); // replaced whole

        var result = CliResult.Run("bench", "--shape", "2x64", "--dtype", "f32,bf16", "--device", "host", "--min-time", "0.01", "--json", json, "--plot", png);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        string[] header = ["backend", "device", "dtype", "shape", "median us", "GB/s", "copy GB/s", "% of copy"];
        Assert.All(header, column => Assert.Contains(column, result.Stdout, StringComparison.Ordinal));
        Assert.Contains("x read + w read + y written", result.Stdout, StringComparison.Ordinal);
        var rows = result.Stdout.Split('\n').Where(line => line.StartsWith("host ", StringComparison.Ordinal) && line.Contains(" 2x64 ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, row => row.Contains(" f32 ", StringComparison.Ordinal));
        Assert.Contains(rows, row => row.Contains(" bf16 ", StringComparison.Ordinal));
        Assert.True(result.StderrLines.Length == 2, result.Stderr); // progress, one line per measurement

        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var entries = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(["f32", "bf16"], entries.Select(e => e.GetProperty("dtype").GetString()));
        foreach (var entry in entries)
        {
            Assert.Equal("host", entry.GetProperty("backend").GetString());
            Assert.False(string.IsNullOrWhiteSpace(entry.GetProperty("device").GetString()));
            Assert.Equal(2, entry.GetProperty("rows").GetInt32());
            Assert.Equal(64, entry.GetProperty("hidden").GetInt32());
            foreach (string field in new[] { "median_us", "gbps", "copy_gbps", "pct_of_copy", "copy_single_thread_gbps", "copy_parallel_gbps" })
            {
                Assert.True(entry.GetProperty(field).GetDouble() > 0, $"{field} = {entry.GetProperty(field)}");
            }

            Assert.True(entry.GetProperty("iterations").GetInt64() >= Timing.MinSamples);
            Assert.Equal(
                Math.Max(entry.GetProperty("copy_single_thread_gbps").GetDouble(), entry.GetProperty("copy_parallel_gbps").GetDouble()),
                entry.GetProperty("copy_gbps").GetDouble());
        }

        byte[] image = File.ReadAllBytes(png);
        Assert.True(image.Length > 1000);
        Assert.Equal(PngSignature, image[..PngSignature.Length]);
        Assert.Equal(["bench.json", "bench.png"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // no temp files left
    }

    [Fact]
    public void Bench_OnTheCpuAccelerator_CapsRows_AndSaysSo()
    {
        var result = CliResult.Run("bench", "--shape", "2x64,100x32", "--device", "cpu", "--min-time", "0.01");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("capped at 64 rows (100x32 -> 64x32)", result.Stdout, StringComparison.Ordinal);
        var rows = result.Stdout.Split('\n').Where(line => line.StartsWith("cpu ", StringComparison.Ordinal) && line.Contains(" device ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, row => row.Contains(" 64x32 ", StringComparison.Ordinal));
        Assert.Contains("ArrayView.CopyTo", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--shape", "4096", "--shape")]
    [InlineData("--shape", "0x64", "--shape")]
    [InlineData("--shape", "2x", "--shape")]
    [InlineData("--shape", "2x64,abc", "--shape")]
    [InlineData("--shape", "100000x100000", "--shape")]
    [InlineData("--dtype", "f8", "--dtype")]
    [InlineData("--dtype", "f32,int8", "--dtype")]
    [InlineData("--device", "gpu", "--device")]
    [InlineData("--device", "cuda:x", "--device")]
    [InlineData("--device", "opencl:99", "--device")]
    [InlineData("--min-time", "0", "--min-time")]
    [InlineData("--min-time", "-1", "--min-time")]
    [InlineData("--min-time", "abc", "--min-time")]
    [InlineData("--min-time", "NaN", "--min-time")]
    [InlineData("--plot", "chart.jpg", "--plot")]
    public void Bench_BadArgument_IsAUsageError(string option, string value, string named) =>
        CliResult.Run("bench", option, value).AssertError(ExitCodes.Usage, named);

    [Fact]
    public void Bench_UnwritableJsonPath_IsAUsageError_BeforeAnyWork()
    {
        string missing = Path.Combine(directory, "no-such-folder", "bench.json");
        var result = CliResult.Run("bench", "--shape", "2x64", "--json", missing);
        result.AssertError(ExitCodes.Usage, "--json", "does not exist");
        Assert.Equal(string.Empty, result.Stdout);

        CliResult.Run("bench", "--shape", "2x64", "--json", directory).AssertError(ExitCodes.Usage, "--json", "folder");
        CliResult.Run("bench", "--shape", "2x64", "--plot", Path.Combine(directory, "no-such-folder", "p.png")).AssertError(ExitCodes.Usage, "--plot");
    }

    [Fact]
    public void Options_Defaults_AndLists()
    {
        var defaults = BenchOptions.Parse(new BenchSettings());
        Assert.Null(defaults.Shapes);
        Assert.Null(defaults.Devices);
        Assert.False(defaults.AllDevices);
        Assert.Equal([ElementType.Float32], defaults.Types);
        Assert.Equal(BenchOptions.DefaultMinTime, defaults.MinTime);

        var parsed = BenchOptions.Parse(new BenchSettings { Shape = "1x8,2x8,1x8", Dtype = "bf16,f64,bf16", Device = "host,cpu", MinTime = "0.5" });
        Assert.Equal([new BenchShape(1, 8), new BenchShape(2, 8)], parsed.Shapes);
        Assert.Equal([ElementType.BFloat16, ElementType.Float64], parsed.Types);
        Assert.Equal([DeviceRequest.Host, DeviceRequest.Cpu], parsed.Devices);
        Assert.Equal(0.5, parsed.MinTime);
        Assert.True(BenchOptions.Parse(new BenchSettings { Device = "all" }).AllDevices);
    }

    [Fact]
    public void ShapesFor_AddsTheLargeShapeOnGpusOnly_AndCapsTheCpuAccelerator()
    {
        var gpu = new DeviceInfo(DeviceKind.Cuda, 0, "gpu", IsGpu: true, 1L << 34, 1024, 32, true, "test");
        var host = new DeviceInfo(DeviceKind.Host, 0, "host", IsGpu: false, 0, 0, 8, true, "test");
        var cpu = new DeviceInfo(DeviceKind.Cpu, 0, "cpu", IsGpu: false, 0, 32, 4, true, "test");

        Assert.Equal([.. BenchOptions.DefaultShapes, new BenchShape(32768, 4096)], BenchCommand.ShapesFor(null, gpu, out var none));
        Assert.Empty(none);
        Assert.Equal(BenchOptions.DefaultShapes, BenchCommand.ShapesFor(null, host, out _));
        Assert.Equal(
            [new BenchShape(1, 4096), new BenchShape(16, 4096), new BenchShape(64, 4096), new BenchShape(64, 8192)],
            BenchCommand.ShapesFor(null, cpu, out var capped));
        Assert.Equal(["4096x4096 -> 64x4096", "1024x8192 -> 64x8192"], capped);
        Assert.Equal([new BenchShape(64, 8)], BenchCommand.ShapesFor([new BenchShape(64, 8), new BenchShape(65, 8)], cpu, out _));
    }

    [Fact]
    public void LogTicks_OneTwoFivePerDecade_CoveringTheRange() =>
        Assert.Equal([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500], BenchPlot.LogTicks(0.016, 320));
}
