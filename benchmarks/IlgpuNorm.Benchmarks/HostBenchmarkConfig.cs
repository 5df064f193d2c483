using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// Columns of <see cref="HostRmsNormBenchmarks"/>: working set, median, GB/s, % of copy, allocations; times
/// in microseconds for every row. No job: the job comes from the command line (short by default, see
/// <see cref="Program"/>).
/// </summary>
public sealed class HostBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public HostBenchmarkConfig()
    {
        AddColumn(new WorkingSetColumn(), StatisticColumn.Median, new BandwidthColumn(), new PercentOfCopyColumn());
        AddDiagnoser(MemoryDiagnoser.Default);
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
    }
}
