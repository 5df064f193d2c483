using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>The <c>GB/s</c> column: bytes moved (<see cref="RmsNormTraffic.BytesMoved"/>) over the mean time.</summary>
public sealed class BandwidthColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(BandwidthColumn);

    /// <inheritdoc />
    public string ColumnName => "GB/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Bytes moved (x read + weight read + y write; Copy: x read + y write) / Mean, in 10^9 bytes/s";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        RmsNormTraffic.GigabytesPerSecond(summary, benchmarkCase) is double gbps
            ? gbps.ToString("N2", CultureInfo.InvariantCulture)
            : "NA";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
