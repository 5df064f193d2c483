using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// Columns of <see cref="HostRmsNormBenchmarks"/>: working set, median, GB/s, % of copy, allocations; times
/// in microseconds for every row. Jobs: the command line's (short by default, see <see cref="Program"/>) and the same
/// job again with AVX-512 off (<see cref="Avx512Off"/>), so every run measures both vector widths.
/// </summary>
public sealed class HostBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public HostBenchmarkConfig()
    {
        AddJob(Avx512Off(Program.SelectedJob));
        AddColumn(new WorkingSetColumn(), StatisticColumn.Median, new BandwidthColumn(), new PercentOfCopyColumn());
        AddDiagnoser(MemoryDiagnoser.Default);
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
    }

    /// <summary>
    /// <paramref name="job"/> in a process where the JIT uses no AVX-512 (Vector512 not accelerated, the Vector256 paths
    /// run): what every AVX2-only x86 machine runs. .NET 10 reads <c>DOTNET_EnableAVX512</c>; .NET 8 and 9 read
    /// <c>DOTNET_EnableAVX512F</c> (which .NET 10 ignores), so both are set.
    /// </summary>
    /// <param name="job">The job to copy.</param>
    /// <returns>The copy, with id <c>&lt;job&gt;-AVX2</c>.</returns>
    public static Job Avx512Off(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job
            .WithEnvironmentVariable("DOTNET_EnableAVX512", "0")
            .WithEnvironmentVariable("DOTNET_EnableAVX512F", "0")
            .WithId($"{job.Id}-AVX2");
    }
}
