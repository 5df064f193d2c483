using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>The <c>GB/s</c> column: bytes moved (<see cref="RmsNormTraffic.BytesMoved"/>) over the mean time.</summary>
public sealed class BandwidthColumn() : BenchmarkColumn(
    "GB/s",
    "Bytes moved (x read + weight read + y write; Copy: x read + y write) / Mean, in 10^9 bytes/s",
    ColumnCategory.Custom,
    priority: 0,
    numeric: true)
{
    /// <inheritdoc />
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        RmsNormTraffic.GigabytesPerSecond(summary, benchmarkCase) is double gbps
            ? gbps.ToString("N2", CultureInfo.InvariantCulture)
            : "NA";
}
