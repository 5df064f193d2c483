using IlgpuNorm.IO;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

/// <summary><c>ilgpunorm backward</c>: dx and dweight files against the library's own results, and its usage errors.</summary>
public sealed class BackwardCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cli-backward-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Float32_WithWeight_WritesDxAndDweight(string device)
    {
        var x = RunQuantizeCommandTests.TestDataFor<float>(6 * 33, 1);
        var dy = RunQuantizeCommandTests.TestDataFor<float>(6 * 33, 2);
        var w = RunQuantizeCommandTests.TestDataFor<float>(33, 3);
        string dxPath = Path.Combine(directory, "dx.npy");
        string dwPath = Path.Combine(directory, "dw.npy");
        var result = CliResult.Run("backward", "-i", Write("x.npy", x, [2, 3, 33]), "--dy", Write("dy.npy", dy, [2, 3, 33]), "-w", Write("w.npy", w, [33]),
            "-n", "33", "--dx", dxPath, "--dweight", dwPath, "--eps", "1e-5", "--device", device);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var dx = new float[x.Length];
        var dw = new float[33];
        RmsNormBackward.Compute<float>(dy, x, [2, 3, 33], [33], w, dx, dw, default, new RmsNormOptions { Epsilon = 1e-5, Device = DeviceRequest.Parse(device) });
        var dxFile = NpyFile.Read(dxPath);
        Assert.Equal([2, 3, 33], dxFile.Shape.ToArray());
        Assert.Equal(dx, dxFile.ToArray<float>());
        Assert.Equal(dw, NpyFile.Read(dwPath).ToArray<float>());
    }

    [Fact]
    public void BFloat16_WithoutWeight_WritesDxOnly()
    {
        var x = RunQuantizeCommandTests.TestDataFor<BFloat16>(4 * 20, 4);
        var dy = RunQuantizeCommandTests.TestDataFor<BFloat16>(4 * 20, 5);
        string dxPath = Path.Combine(directory, "dx.npy");
        var result = CliResult.Run("backward", "-i", Write("x.npy", x, [4, 20]), "--dy", Write("dy.npy", dy, [4, 20]), "-n", "20", "-g", "2",
            "--dx", dxPath, "--dtype", "bfloat16", "--device", "host");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var dx = new BFloat16[x.Length];
        RmsNormBackward.Compute<BFloat16>(dy, x, [4, 20], [20], default, dx, default, default, new RmsNormOptions { NumGroups = 2, Device = DeviceRequest.Parse("host") });
        Assert.Equal(dx, NpyFile.Read(dxPath).ToArray<BFloat16>());
    }

    [Fact]
    public void UsageErrors_OneLine_NoOutput()
    {
        var x = RunQuantizeCommandTests.TestDataFor<float>(2 * 8, 6);
        string input = Write("x.npy", x, [2, 8]);
        string dy = Write("dy.npy", x, [2, 8]);
        string dyWrong = Write("dy7.npy", RunQuantizeCommandTests.TestDataFor<float>(14, 7), [2, 7]);
        string dy64 = Write("dy64.npy", RunQuantizeCommandTests.TestDataFor<double>(16, 8), [2, 8]);
        string w = Write("w.npy", RunQuantizeCommandTests.TestDataFor<float>(8, 9), [8]);
        string dxPath = Path.Combine(directory, "dx.npy");
        string dwPath = Path.Combine(directory, "dw.npy");

        CliResult.Run("backward", "-i", input, "--dy", dy, "-w", w, "-n", "8", "--dx", dxPath, "--device", "host").AssertError(2, "--dweight", "--weight");
        CliResult.Run("backward", "-i", input, "--dy", dy, "-n", "8", "--dx", dxPath, "--dweight", dwPath, "--device", "host").AssertError(2, "--dweight", "without --weight");
        CliResult.Run("backward", "-i", input, "--dy", dyWrong, "-n", "8", "--dx", dxPath, "--device", "host").AssertError(2, "--dy", "[2, 8]", "[2, 7]");
        CliResult.Run("backward", "-i", input, "--dy", dy64, "-n", "8", "--dx", dxPath, "--device", "host").AssertError(2, "--dy", "<f8", "<f4");
        CliResult.Run("backward", "-i", input, "--dy", Path.Combine(directory, "missing.npy"), "-n", "8", "--dx", dxPath, "--device", "host").AssertError(2, "--dy", "not found");
        CliResult.Run("backward", "-i", input, "--dy", dy, "-n", "9", "--dx", dxPath, "--device", "host").AssertError(2, "--normalized-shape");
        CliResult.Run("backward", "-i", input, "--dy", dy, "-n", "8").AssertError(2, "--dx");
        Assert.False(File.Exists(dxPath));
        Assert.False(File.Exists(dwPath));
    }

    private string Write<T>(string name, T[] values, int[] shape)
        where T : unmanaged
    {
        string path = Path.Combine(directory, name);
        NpyFile.Write<T>(path, values, shape);
        return path;
    }
}
