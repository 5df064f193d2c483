using IlgpuNorm.Cli;
using IlgpuNorm.Cli.Commands;
using IlgpuNorm.IO;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

/// <summary><c>ilgpunorm run</c> with --residual/--residual-output, --weight-offset, --bias and --policy.</summary>
public sealed class RunFusedOptionsTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cli-run-fused-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Residual_WritesTheNormalizedSumAndTheUpdatedResidual_AsTheLibraryDoes(string device)
    {
        var x = TestData.Random<float>(3 * 40, 1);
        var r = TestData.Random<float>(3 * 40, 2);
        var w = TestData.Random<float>(40, 3, scale: 2.0);
        string y = Path.Combine(directory, "y.npy");
        string r2 = Path.Combine(directory, "r2.npy");
        var result = CliResult.Run("run", "-i", Write("x.npy", x, [3, 40]), "-o", y, "-n", "40", "-w", Write("w.npy", w, [40]),
            "--residual", Write("r.npy", r, [3, 40]), "--residual-output", r2, "--device", device);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("residual updated", result.Stdout, StringComparison.Ordinal);

        var expectedResidual = (float[])r.Clone();
        var expected = new float[x.Length];
        RmsNorm.ComputeFusedAdd<float>(x, expectedResidual, [3, 40], [40], w, default, expected, new RmsNormOptions { Device = DeviceRequest.Parse(device) });
        PolicyCheck.AssertSameBits(expected, NpyFile.Read(y).ToArray<float>(), "y");
        PolicyCheck.AssertSameBits(expectedResidual, NpyFile.Read(r2).ToArray<float>(), "residual");
        Assert.Equal([3, 40], NpyFile.Read(r2).Shape.ToArray());
    }

    [Theory]
    [InlineData("trtllm", RmsNormPolicy.TensorRtLlm)]
    [InlineData("weight-fp32", RmsNormPolicy.WeightInFloat32)]
    [InlineData("input-dtype", RmsNormPolicy.InputDtype)]
    public void Policy_WeightOffset_AndBias_FollowThePolicyReference(string name, RmsNormPolicy policy)
    {
        var x = TestData.Random<Half>(4 * 48, 11);
        var w = TestData.Random<Half>(48, 12);
        var b = TestData.Random<Half>(48, 13);
        string y = Path.Combine(directory, "y.npy");
        var result = CliResult.Run("run", "-i", Write("x.npy", x, [4, 48]), "-o", y, "-n", "48", "-w", Write("w.npy", w, [48]),
            "--bias", Write("b.npy", b, [48]), "--weight-offset", "1", "--policy", name, "--device", "host");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"policy {policy}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("weight offset 1", result.Stdout, StringComparison.Ordinal);
        var options = new RmsNormOptions { Policy = policy, WeightOffset = 1 };
        PolicyCheck.AssertMatches(NpyFile.Read(y).ToArray<Half>(), x, [4, 48], [48], w, b, options, "cli");
        var expected = new Half[x.Length];
        RmsNorm.Compute<Half>(x, [4, 48], [48], w, b, expected, options with { Device = DeviceRequest.Host });
        PolicyCheck.AssertSameBits(expected, NpyFile.Read(y).ToArray<Half>(), "cli vs library");
    }

    public static TheoryData<string, string[], string> BadInputs => new()
    {
        { "unknown policy", ["--policy", "fast"], "--policy: expected trtllm, weight-fp32 or input-dtype; got 'fast'" },
        { "offset text", ["-w", "{w}", "--weight-offset", "one"], "--weight-offset: expected a finite number" },
        { "offset nan", ["-w", "{w}", "--weight-offset", "NaN"], "--weight-offset" },
        { "offset infinite", ["-w", "{w}", "--weight-offset", "1e99"], "--weight-offset" },
        { "offset without weight", ["--weight-offset", "1"], "pass --weight too" },
        { "bias dtype", ["--bias", "{b16}"], "--bias: dtype <f2 differs" },
        { "bias shape", ["--bias", "{b7}"], "--bias: expected shape [8], got [7]" },
        { "bias missing", ["--bias", "{dir}/none.npy"], "--bias: file not found" },
        { "residual without output", ["--residual", "{r}"], "--residual: needs --residual-output" },
        { "residual output without residual", ["--residual-output", "{dir}/r2.npy"], "--residual-output: needs --residual" },
        { "residual shape", ["--residual", "{w}", "--residual-output", "{dir}/r2.npy"], "--residual: expected shape [2, 8], got [8]" },
        { "residual dtype", ["--residual", "{r16}", "--residual-output", "{dir}/r2.npy"], "--residual: dtype <f2 differs" },
        { "residual output is output", ["--residual", "{r}", "--residual-output", "{dir}/out.npy"], "--residual-output: expected a file path other than --output" },
        { "residual output folder missing", ["--residual", "{r}", "--residual-output", "{dir}/absent/r2.npy"], "--residual-output: directory not found" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_FailsWithOneLine_AndWritesNoFile(string name, string[] args, string expected)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dir"] = directory,
            ["w"] = Write("w.npy", TestData.Random<float>(8, 1), [8]),
            ["b16"] = Write("b16.npy", TestData.Random<Half>(8, 2), [8]),
            ["b7"] = Write("b7.npy", TestData.Random<float>(7, 3), [7]),
            ["r"] = Write("r.npy", TestData.Random<float>(16, 4), [2, 8]),
            ["r16"] = Write("r16.npy", TestData.Random<Half>(16, 5), [2, 8]),
        };
        string input = Write("x.npy", TestData.Random<float>(16, 6), [2, 8]);
        var before = Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToArray();
        string[] resolved = [.. args.Select(a => files.Aggregate(a, (text, file) => text.Replace("{" + file.Key + "}", file.Value, StringComparison.Ordinal)))];
        var result = CliResult.Run(["run", "-i", input, "-o", Path.Combine(directory, "out.npy"), "-n", "8", "--device", "host", .. resolved]);
        result.AssertError(ExitCodes.Usage, expected);
        Assert.Equal(before, Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToArray());
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public void Execute_WithoutExtensions_KeepsTheOriginalBehaviour()
    {
        string input = Write("x.npy", TestData.Random<double>(12, 7), [3, 4]);
        string output = Path.Combine(directory, "y.npy");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(ExitCodes.Success, RunCommand.Execute(new RunSettings(input, output, "4") { Device = "host" }, stdout, stderr));
        Assert.DoesNotContain("policy", stdout.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    private string Write<T>(string name, T[] values, int[] shape)
        where T : unmanaged
    {
        string path = Path.Combine(directory, name);
        NpyFile.Write<T>(path, values, shape);
        return path;
    }
}
