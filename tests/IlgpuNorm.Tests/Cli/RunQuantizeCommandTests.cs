using System.Text;
using System.Text.RegularExpressions;
using IlgpuNorm.IO;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

/// <summary><c>ilgpunorm run --quantize</c>: the files it writes, against the library's own results, and its usage errors.</summary>
public sealed partial class RunQuantizeCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cli-quant-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Int8_Dynamic_WritesI1Codes_AndFloat32Scales(string device)
    {
        var x = TestDataFor<float>(4 * 3 * 40, 1);
        var w = TestDataFor<float>(40, 2);
        string input = Write("x.npy", x, [4, 3, 40]);
        string weight = Write("w.npy", w, [40]);
        string output = Path.Combine(directory, "q.npy");
        string scales = Path.Combine(directory, "s.npy");
        var result = CliResult.Run("run", "-i", input, "-o", output, "-n", "40", "-w", weight, "--quantize", "int8", "--scale-output", scales, "--device", device);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("|i1 [4, 3, 40]", result.Stdout, StringComparison.Ordinal);

        var expectedCodes = new sbyte[x.Length];
        var expectedScales = new float[12];
        RmsNormQuantized.Compute<float>(x, [4, 3, 40], [40], w, expectedCodes, expectedScales, new QuantizeOptions(), new RmsNormOptions { Device = DeviceRequest.Parse(device) });
        var (descr, shape, data) = ReadBytes(output);
        Assert.Equal("|i1", descr);
        Assert.Equal([4, 3, 40], shape);
        Assert.Equal(expectedCodes.Select(v => (byte)v).ToArray(), data);
        var s = NpyFile.Read(scales);
        Assert.Equal([12], s.Shape.ToArray()); // [rows], the batch dimensions flattened
        Assert.Equal(expectedScales, s.ToArray<float>());
    }

    [Fact]
    public void Fp8_Static_WithClampAndGroups_WritesU1Bytes_AndNoScales()
    {
        var x = TestDataFor<Half>(5 * 48, 3);
        string input = Write("x16.npy", x, [5, 48]);
        string output = Path.Combine(directory, "q8.npy");
        var result = CliResult.Run("run", "-i", input, "-o", output, "-n", "48", "-g", "2", "--quantize", "fp8", "--scale", "0.01", "--clamp", "2.5", "--device", "host");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var expected = new byte[x.Length];
        var options = new QuantizeOptions { Format = QuantizeFormat.Float8E4M3, StaticScale = 0.01f, Clamp = 2.5f };
        RmsNormQuantized.Compute<Half>(x, [5, 48], [48], default, expected, default, options, new RmsNormOptions { NumGroups = 2, Device = DeviceRequest.Parse("host") });
        var (descr, shape, data) = ReadBytes(output);
        Assert.Equal("|u1", descr);
        Assert.Equal([5, 48], shape);
        Assert.Equal(expected, data);
        Assert.Equal(2, Directory.GetFiles(directory).Length); // the input and the codes only
    }

    [Fact]
    public void Dynamic_WithGroups_WritesScalesWithAGroupAxis()
    {
        string input = Write("x.npy", TestDataFor<double>(3 * 24, 4), [3, 24]);
        string scales = Path.Combine(directory, "s.npy");
        var result = CliResult.Run("run", "-i", input, "-o", Path.Combine(directory, "q.npy"), "-n", "24", "-g", "3", "-q", "fp8", "--scale-output", scales, "--device", "host");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal([3, 3], NpyFile.Read(scales).Shape.ToArray());
    }

    [Theory]
    [InlineData("--quantize int4 --scale 1", "--quantize", "int4")]
    [InlineData("--quantize int8", "--quantize", "exactly one")]
    [InlineData("--quantize int8 --scale 1 --scale-output s.npy", "--scale-output", "exactly one")]
    [InlineData("--quantize int8 --scale 0", "--scale", "> 0")]
    [InlineData("--quantize fp8 --scale 1 --clamp nan", "--clamp", "nan")]
    [InlineData("--scale 1", "--scale", "only with --quantize")]
    [InlineData("--clamp 1", "--clamp", "only with --quantize")]
    [InlineData("--quantize int8 --scale 1 --policy weight-fp32", "--policy", "not available with --quantize")]
    [InlineData("--quantize fp8 --scale 1 --weight-offset 1", "--weight-offset", "not available with --quantize")]
    public void UsageErrors_OneLine_NoOutput(string extra, string fragment1, string fragment2)
    {
        string input = Write("x.npy", TestDataFor<float>(2 * 8, 5), [2, 8]);
        string output = Path.Combine(directory, "q.npy");
        var result = CliResult.Run(["run", "-i", input, "-o", output, "-n", "8", "--device", "host", .. extra.Split(' ').Select(e => e == "s.npy" ? Path.Combine(directory, e) : e)]);
        result.AssertError(2, fragment1, fragment2);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void WeightOfTheWrongShape_IsAUsageError()
    {
        string input = Write("x.npy", TestDataFor<float>(2 * 8, 6), [2, 8]);
        string weight = Write("w.npy", TestDataFor<float>(7, 7), [7]);
        var result = CliResult.Run("run", "-i", input, "-o", Path.Combine(directory, "q.npy"), "-n", "8", "-w", weight, "-q", "int8", "--scale", "0.1", "--device", "host");
        result.AssertError(2, "--weight", "[8]", "[7]");
    }

    /// <summary>Reads a one-byte .npy: its descr, shape and data.</summary>
    internal static (string Descr, int[] Shape, byte[] Data) ReadBytes(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        Assert.Equal("\x93NUMPY", Encoding.Latin1.GetString(file, 0, 6));
        int headerLength = file[8] | (file[9] << 8);
        string header = Encoding.Latin1.GetString(file, 10, headerLength);
        Assert.Equal(0, (10 + headerLength) % 64);
        string descr = DescrPattern().Match(header).Groups[1].Value;
        int[] shape = [.. ShapePattern().Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse)];
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        return (descr, shape, file[(10 + headerLength)..]);
    }

    internal static T[] TestDataFor<T>(int count, int seed)
        where T : unmanaged => Support.TestData.Random<T>(count, seed);

    private string Write<T>(string name, T[] values, int[] shape)
        where T : unmanaged
    {
        string path = Path.Combine(directory, name);
        NpyFile.Write<T>(path, values, shape);
        return path;
    }

    [GeneratedRegex("'descr': '([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape': \(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
