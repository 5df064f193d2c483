using System.Text.Json;
using IlgpuNorm.Benchmarking;

namespace IlgpuNorm.Cli.Bench;

/// <summary>
/// The <c>--json</c> file: an array with one object per measurement. Every object has backend, device, dtype, rows,
/// hidden, bytes (x read + w read + y written), data, buffer_sets, median_us, gbps, copy_gbps, pct_of_copy,
/// copy_method, iterations, samples and min_time_s; host rows add copy_single_thread_gbps, copy_parallel_gbps and copy_threads.
/// </summary>
internal static class BenchJson
{
    /// <summary>Writes the results atomically (a temporary file, then a rename).</summary>
    /// <param name="path">The full path.</param>
    /// <param name="results">The measurements.</param>
    /// <param name="minTime">The --min-time they ran with.</param>
    public static void Write(string path, IReadOnlyList<BenchResult> results, double minTime) =>
        IO.AtomicFile.Write(path, stream => Write(stream, results, minTime));

    /// <summary>Writes the results to a stream.</summary>
    public static void Write(Stream stream, IReadOnlyList<BenchResult> results, double minTime)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (var r in results)
        {
            json.WriteStartObject();
            json.WriteString("backend", r.Backend);
            json.WriteString("device", r.Device);
            json.WriteString("dtype", ElementTypes.ShortName(r.Type));
            json.WriteNumber("rows", r.Shape.Rows);
            json.WriteNumber("hidden", r.Shape.Hidden);
            json.WriteNumber("bytes", r.Bytes);
            json.WriteString("data", r.Data);
            json.WriteNumber("buffer_sets", r.BufferSets);
            json.WriteNumber("median_us", Math.Round(r.MedianSeconds * 1e6, 4));
            json.WriteNumber("gbps", Math.Round(r.Gbps, 3));
            json.WriteNumber("copy_gbps", Math.Round(r.Copy.Gbps, 3));
            json.WriteNumber("pct_of_copy", Math.Round(r.PercentOfCopy, 2));
            json.WriteString("copy_method", r.Copy.Method);
            if (r.Copy.SingleThreadGbps is { } single)
            {
                json.WriteNumber("copy_single_thread_gbps", Math.Round(single, 3));
            }

            if (r.Copy.ParallelGbps is { } parallel)
            {
                json.WriteNumber("copy_parallel_gbps", Math.Round(parallel, 3));
            }

            if (r.Copy.Threads is { } threads)
            {
                json.WriteNumber("copy_threads", threads);
            }

            json.WriteNumber("iterations", r.Iterations);
            json.WriteNumber("samples", r.Samples);
            json.WriteNumber("min_time_s", minTime);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
