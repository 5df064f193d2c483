using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The <c>Working set</c> column of <see cref="HostRmsNormBenchmarks"/>: whether a shape is measured
/// cache-hot (one buffer set) or from DRAM (several sets rotated), and how many bytes that is.
/// </summary>
public sealed class WorkingSetColumn() : BenchmarkColumn(
    "Working set",
    "x and y buffer sets the benchmark rotates through: 'hot' = one set that stays in cache",
    ColumnCategory.Params,
    priority: 100,
    numeric: false)
{
    /// <inheritdoc />
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
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
}
