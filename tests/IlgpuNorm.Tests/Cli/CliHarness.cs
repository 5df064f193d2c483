using IlgpuNorm.Cli;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

/// <summary>Runs the CLI in-process on a command line and keeps what it printed.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Asserts a failure: the exit code, exactly one <c>error:</c> line on stderr containing every fragment, no stack trace.</summary>
    public void AssertError(int exitCode, params string[] fragments)
    {
        Assert.True(exitCode == ExitCode, $"exit {ExitCode}, expected {exitCode}; stderr: {Stderr}");
        string line = Assert.Single(StderrLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, line, StringComparison.OrdinalIgnoreCase);
        }

        Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
    }
}
