using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release -- --filter '*Host*'</c>; see docs/benchmarks.md.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks the arguments select.</summary>
    /// <param name="args">BenchmarkDotNet's command line.</param>
    public static void Main(string[] args)
    {
        // The short job keeps a run CI-sized. It is added as a command-line default, not as a [ShortRunJob]
        // attribute, because an attribute job cannot be replaced from the command line: `--job default`
        // (or medium, long) then selects the job the reader asked for.
        bool hasJob = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
        string[] effective = hasJob ? args : [.. args, "--job", "short"];
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(effective);
    }
}
