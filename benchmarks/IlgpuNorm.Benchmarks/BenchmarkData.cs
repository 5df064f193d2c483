using System.Globalization;
using IlgpuNorm.Benchmarking;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// Seeded data, the cache policy and the float64 check of the benchmarks: the seed, the fill and the buffer-set policy
/// are the shared harness's (<see cref="BenchData"/>, <see cref="CachePolicy"/>), the same as <c>ilgpunorm bench</c>'s.
/// </summary>
internal static class BenchmarkData
{
    /// <summary>The seed of every random buffer, so each run measures the same bits.</summary>
    public const int Seed = BenchData.Seed;

    /// <summary>eps as the library uses it for float32: 1e-6 rounded to float32.</summary>
    public const float Epsilon = (float)RmsNormOptions.DefaultEpsilon;

    /// <summary>The last-level cache of this machine (<see cref="CachePolicy.LastLevelCache"/>).</summary>
    public static long LastLevelCacheBytes => CachePolicy.LastLevelCache;

    /// <summary>How many buffer sets a benchmark rotates through (<see cref="CachePolicy.BufferSets(long)"/>).</summary>
    public static int BufferSets(long bytesPerSet) => CachePolicy.BufferSets(bytesPerSet);

    /// <summary>Fills with random signs and magnitudes in [min, max) (<see cref="BenchData.Fill{T}"/>).</summary>
    public static void Fill(Span<float> destination, Random random, float min, float max) => BenchData.Fill(destination, random, min, max);

    /// <summary>Formats a byte count as KiB or MiB.</summary>
    public static string FormatBytes(long bytes) =>
        bytes >= 1 << 20
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.#} MiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB");

    /// <summary>
    /// Checks <paramref name="actual"/> against a float64 rms_norm of <paramref name="x"/> (the weight applied),
    /// so a benchmark never times code that computes something else.
    /// </summary>
    public static void Verify(string what, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> actual)
    {
        const double Tolerance = 1e-4; // relative; a sequential float32 sum of 8192 random squares errs by ~1e-5
        int n = w.Length;
        for (int row = 0; row < x.Length / n; row++)
        {
            var xs = x.Slice(row * n, n);
            double sum = 0;
            foreach (float v in xs)
            {
                sum += (double)v * v;
            }

            double d = Math.Sqrt(sum / n + Epsilon);
            for (int i = 0; i < n; i++)
            {
                double expected = xs[i] / d * w[i];
                double got = actual[row * n + i];
                if (!(Math.Abs(got - expected) <= Tolerance * Math.Abs(expected)))
                {
                    throw new InvalidOperationException(
                        $"{what}: row {row}, element {i}: expected {expected:R}, got {got:R}.");
                }
            }
        }
    }
}
