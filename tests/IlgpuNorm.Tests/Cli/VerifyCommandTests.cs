using IlgpuNorm.Cli;
using IlgpuNorm.Cli.Commands;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

public sealed class VerifyCommandTests
{
    [Fact]
    public void Verify_OnHost_Passes()
    {
        var result = CliResult.Run("verify", "--device", "host", "--cases", "6", "--seed", "7");
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("verify: all passed", result.Stdout, StringComparison.Ordinal);
        foreach (string dtype in new[] { "f32", "f16", "bf16", "f64" })
        {
            Assert.Contains(dtype, result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_OnEveryBackend_WithFewCases_Passes()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = VerifyCommand.Execute(new VerifySettings { Cases = 3 }, stdout, stderr);
        Assert.True(code == ExitCodes.Success, stdout.ToString() + stderr);
        Assert.Contains("host", stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("cpu", stdout.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_IsDeterministicForASeed()
    {
        var first = CliResult.Run("verify", "--device", "host", "--cases", "3", "--seed", "99");
        var second = CliResult.Run("verify", "--device", "host", "--cases", "3", "--seed", "99");
        Assert.Equal(Columns(first.Stdout), Columns(second.Stdout));
    }

    [Fact]
    public void Verify_BadOptions_AreUsageErrors()
    {
        CliResult.Run("verify", "--device", "tpu").AssertError(ExitCodes.Usage, "--device");
        CliResult.Run("verify", "--cases", "0").AssertError(ExitCodes.Usage, "--cases");
        CliResult.Run("verify", "--seed", "many").AssertError(ExitCodes.Usage, "many");
        CliResult.Run("verify", "--device", "cuda:42").AssertError(ExitCodes.Usage, "not available");
    }

    [Fact]
    public void Cases_CoverTheShapesTheBriefNames()
    {
        var cases = VerifyCase.Generate(new Random(1), 12, slow: false);
        Assert.Contains(cases, c => c.NormalizedShape.Length > 1);
        Assert.Contains(cases, c => c.NumGroups > 1);
        Assert.Contains(cases, c => c.Weight);
        Assert.Contains(cases, c => !c.Weight);
        Assert.Contains(cases, c => c.Specials && c.Shape[0] >= 3);
        Assert.Equal([1, 2, 31, 32, 33, 127, 1000, 4096, 5120, 8193], cases.Skip(2).Select(c => c.NormalizedShape[0]).Order());
        Assert.Contains(cases, c => c.Shape[0] == 257);

        var slow = VerifyCase.Generate(new Random(1), 12, slow: true);
        Assert.All(slow, c => Assert.True(c.Shape[..^c.NormalizedShape.Length].Aggregate(1, (a, b) => a * b) <= 19));
    }

    [Fact]
    public void Inputs_PlantNaNInfAndZeroRows_AndAreNeverAllZero()
    {
        var problem = new VerifyCase([5, 40], [40], 1, 1e-6, Weight: true, Specials: true);
        double[] x = problem.Input<double>(new Random(3));
        var rows = Enumerable.Range(0, 5).Select(r => x.AsSpan(r * 40, 40).ToArray()).ToList();
        Assert.Single(rows, r => r.Any(double.IsNaN));
        Assert.Single(rows, r => r.Any(double.IsInfinity));
        Assert.Single(rows, r => r.All(v => v == 0));
        Assert.Equal(2, rows.Count(r => r.All(double.IsFinite) && r.Any(v => v != 0)));
    }

    private static string[] Columns(string table) =>
        [.. table.Split('\n').Select(line => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(5)))];
}
