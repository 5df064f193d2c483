using System.Globalization;

namespace IlgpuNorm.Benchmarks;

/// <summary>Seeded data, the cache policy and the float64 check shared by the benchmarks.</summary>
internal static class BenchmarkData
{
    /// <summary>The seed of every random buffer, so each run measures the same bits.</summary>
    public const int Seed = 20_240_611;

    /// <summary>eps as the library uses it for float32: 1e-6 rounded to float32.</summary>
    public const float Epsilon = (float)RmsNormOptions.DefaultEpsilon;

    /// <summary>Working set a DRAM-bound benchmark rotates through: at least this, and at least 4x the last-level cache.</summary>
    private const long MinimumColdWorkingSet = 512L << 20;

    /// <summary>The last-level cache of this machine, from Linux sysfs; 32 MiB where it cannot be read.</summary>
    public static long LastLevelCacheBytes { get; } = DetectLastLevelCache();

    /// <summary>
    /// How many input/output sets a benchmark rotates through. A set (x and y) that fits comfortably in the
    /// last-level cache gets one set: small problems are measured cache-hot, as they run in a model. A
    /// larger one gets enough sets to exceed max(512 MiB, 4x LLC), so every call reads x from DRAM.
    /// </summary>
    public static int BufferSets(long bytesPerSet) =>
        bytesPerSet * 2 <= LastLevelCacheBytes
            ? 1
            : (int)Math.Max(2, (Math.Max(MinimumColdWorkingSet, 4 * LastLevelCacheBytes) + bytesPerSet - 1) / bytesPerSet);

    /// <summary>Fills with random signs and magnitudes in [min, max): no zeros, no denormals.</summary>
    public static void Fill(Span<float> destination, Random random, float min, float max)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < destination.Length; i++)
        {
            float magnitude = min + (float)random.NextDouble() * (max - min);
            destination[i] = random.Next(2) == 0 ? magnitude : -magnitude;
        }
    }

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

    private static long DetectLastLevelCache()
    {
        const long Fallback = 32L << 20;
        try
        {
            long best = 0;
            foreach (string dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
            {
                string text = File.ReadAllText(Path.Combine(dir, "size")).Trim();
                long scale = text.EndsWith('K') ? 1024 : text.EndsWith('M') ? 1 << 20 : 1;
                if (long.TryParse(text.TrimEnd('K', 'M'), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
                {
                    best = Math.Max(best, value * scale);
                }
            }

            return best > 0 ? best : Fallback;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fallback;
        }
    }
}
