using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The <c>% of copy</c> column: a case's GB/s as a percentage of the GB/s of the <c>Copy</c> benchmark of
/// the same class, parameters and job in the same run. <c>NA</c> when Copy was filtered out.
/// </summary>
public sealed class PercentOfCopyColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(PercentOfCopyColumn);

    /// <inheritdoc />
    public string ColumnName => "% of copy";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 1;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "GB/s as a percentage of the same-run Copy GB/s for the same shape and job";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var copy = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.WorkloadMethod.Name == RmsNormTraffic.CopyMethod &&
            c.Descriptor.Type == benchmarkCase.Descriptor.Type &&
            c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo &&
            c.Parameters.ValueInfo == benchmarkCase.Parameters.ValueInfo);
        if (copy is null ||
            RmsNormTraffic.GigabytesPerSecond(summary, copy) is not double copyGbps ||
            RmsNormTraffic.GigabytesPerSecond(summary, benchmarkCase) is not double gbps)
        {
            return "NA";
        }

        return (100 * gbps / copyGbps).ToString("N0", CultureInfo.InvariantCulture) + "%";
    }

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
