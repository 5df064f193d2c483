using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release -- --filter '*Host*'</c>, or <c>-- --baseline-interleaved [rounds]</c>; see docs/benchmarks.md.</summary>
public static class Program
{
    /// <summary>The job the command line selects (<c>--job</c>; short by default): host configs add an AVX-512-off copy of it.</summary>
    public static Job SelectedJob { get; private set; } = Job.ShortRun;

    /// <summary>Runs the benchmarks the arguments select.</summary>
    /// <param name="args">BenchmarkDotNet's command line.</param>
    public static void Main(string[] args)
    {
        if (args is ["--baseline-interleaved", ..])
        {
            // Not BenchmarkDotNet: paired rounds of the earlier build and this one (BaselineBenchmarks.Interleaved).
            BaselineBenchmarks.Interleaved(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 41, Console.Out);
            return;
        }

        // The short job keeps a run CI-sized. It is added as a command-line default, not as a [ShortRunJob]
        // attribute, because an attribute job cannot be replaced from the command line: `--job default`
        // (or medium, long) then selects the job the reader asked for.
        bool hasJob = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
        string[] effective = hasJob ? args : [.. args, "--job", "short"];
        SelectedJob = JobNamed(JobArgument(effective));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(effective);
    }

    private static string JobArgument(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--job=", StringComparison.Ordinal))
            {
                return args[i]["--job=".Length..];
            }

            if (args[i] is "--job" or "-j" && i + 1 < args.Length)
            {
                return args[i + 1];
            }
        }

        return "short";
    }

    private static Job JobNamed(string name) => name.ToLowerInvariant() switch
    {
        "dry" => Job.Dry,
        "medium" => Job.MediumRun,
        "long" => Job.LongRun,
        "default" => Job.Default,
        "verylong" => Job.VeryLongRun,
        _ => Job.ShortRun,
    };
}
