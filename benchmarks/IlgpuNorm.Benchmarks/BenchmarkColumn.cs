using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>What every custom column of the summaries shares: always shown, never a default, one value per case.</summary>
/// <param name="name">The column's header.</param>
/// <param name="legend">The legend line under the table.</param>
/// <param name="category">Where BenchmarkDotNet places it.</param>
/// <param name="priority">Its order within the category.</param>
/// <param name="numeric">Whether its values are numbers (right-aligned).</param>
public abstract class BenchmarkColumn(string name, string legend, ColumnCategory category, int priority, bool numeric) : IColumn
{
    /// <inheritdoc />
    public string Id => GetType().Name;

    /// <inheritdoc />
    public string ColumnName => name;

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => category;

    /// <inheritdoc />
    public int PriorityInCategory => priority;

    /// <inheritdoc />
    public bool IsNumeric => numeric;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => legend;

    /// <inheritdoc />
    public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public override string ToString() => ColumnName;
}
