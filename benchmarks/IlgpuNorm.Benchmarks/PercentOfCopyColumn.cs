using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The <c>% of copy</c> column: a case's GB/s as a percentage of the GB/s of the faster copy benchmark (<c>Copy</c> or <c>CopyParallel</c>) of
/// the same class, parameters and job in the same run. <c>NA</c> when Copy was filtered out.
/// </summary>
public sealed class PercentOfCopyColumn() : BenchmarkColumn(
    "% of copy",
    "GB/s as a percentage of the faster same-run copy (Copy on 1 thread, CopyParallel on all cores) for the same shape and job",
    ColumnCategory.Custom,
    priority: 1,
    numeric: true)
{
    /// <inheritdoc />
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        // The copy limit of this run: the faster of the 1-thread and the all-core copy of the same shape and job.
        double? copyGbps = summary.BenchmarksCases
            .Where(c => RmsNormTraffic.IsCopy(c.Descriptor.WorkloadMethod.Name) &&
                c.Descriptor.Type == benchmarkCase.Descriptor.Type &&
                c.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo &&
                c.Parameters.ValueInfo == benchmarkCase.Parameters.ValueInfo)
            .Select(c => RmsNormTraffic.GigabytesPerSecond(summary, c))
            .Max();
        if (copyGbps is not double limit || RmsNormTraffic.GigabytesPerSecond(summary, benchmarkCase) is not double gbps)
        {
            return "NA";
        }

        return (100 * gbps / limit).ToString("N0", CultureInfo.InvariantCulture) + "%";
    }
}
