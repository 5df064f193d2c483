using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The <c>Working set</c> column of <see cref="HostRmsNormBenchmarks"/>: whether a shape is measured
/// cache-hot (one buffer set) or from DRAM (several sets rotated), and how many bytes that is.
/// </summary>
public sealed class WorkingSetColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(WorkingSetColumn);

    /// <inheritdoc />
    public string ColumnName => "Working set";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Params;

    /// <inheritdoc />
    public int PriorityInCategory => 100;

    /// <inheritdoc />
    public bool IsNumeric => false;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "x and y buffer sets the benchmark rotates through: 'hot' = one set that stays in cache";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        if (benchmarkCase.Parameters["Shape"] is not RmsNormShape shape)
        {
            return "NA";
        }

        long perSet = 2 * shape.TensorBytes;
        int sets = BenchmarkData.BufferSets(perSet);
        return sets == 1
            ? "hot, " + BenchmarkData.FormatBytes(perSet)
            : string.Create(CultureInfo.InvariantCulture, $"{sets} x {BenchmarkData.FormatBytes(perSet)}");
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
