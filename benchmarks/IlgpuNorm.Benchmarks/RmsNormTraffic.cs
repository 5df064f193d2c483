using BenchmarkDotNet.Running;

namespace IlgpuNorm.Benchmarks;

/// <summary>Bytes a benchmark case moves, from its <c>Shape</c> parameter and its method.</summary>
internal static class RmsNormTraffic
{
    /// <summary>The name of the copy benchmark, whose traffic excludes the weight.</summary>
    public const string CopyMethod = "Copy";

    /// <summary>The name of the all-core copy benchmark method.</summary>
    public const string CopyParallelMethod = "CopyParallel";

    /// <summary>Whether a method is one of the copies (x read, y written, no weight).</summary>
    public static bool IsCopy(string method) => method is CopyMethod or CopyParallelMethod or "DeviceCopy";

    /// <summary>
    /// rms_norm: x read + weight read + y write (float32). Copy: x read + y write. Each byte is counted
    /// once, as a kernel that reads x from memory once and re-reads the row from cache would move it.
    /// </summary>
    public static long? BytesMoved(BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(benchmarkCase);
        var shape = benchmarkCase.Parameters["Shape"] as RmsNormShape ?? (benchmarkCase.Parameters["Case"] as KernelCase)?.Shape;
        if (shape is null)
        {
            return null;
        }

        long x = shape.TensorBytes;
        return IsCopy(benchmarkCase.Descriptor.WorkloadMethod.Name) ? 2 * x : 2 * x + shape.WeightBytes;
    }

    /// <summary>Achieved GB/s (10^9 bytes per second) from the mean time; null when there is no result.</summary>
    public static double? GigabytesPerSecond(BenchmarkDotNet.Reports.Summary summary, BenchmarkCase benchmarkCase)
    {
        ArgumentNullException.ThrowIfNull(summary);
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        long? bytes = BytesMoved(benchmarkCase);
        return meanNanoseconds is > 0 && bytes is long b ? b / meanNanoseconds.Value : null; // bytes per ns = GB/s
    }
}
