using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>Columns of <see cref="KernelRmsNormBenchmarks"/>: category (marks the test backend), median and GB/s.</summary>
public sealed class KernelBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public KernelBenchmarkConfig()
    {
        AddColumn(CategoriesColumn.Default, StatisticColumn.Median, new BandwidthColumn(), new PercentOfCopyColumn());
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond);
    }
}
