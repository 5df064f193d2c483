using System.Globalization;

namespace IlgpuNorm.Cli.Bench;

/// <summary>
/// Whether a host measurement reads x from cache or from memory. A set of x and y that fits in half the last-level cache
/// is measured cache-hot with one set (as an activation just written by the previous layer); a larger one rotates through
/// enough sets that their total exceeds min(4 × L3, 256 MiB), and at least two, so every call reads x from memory.
/// </summary>
internal static class CachePolicy
{
    /// <summary>The working set that suffices whatever the cache: 256 MiB.</summary>
    public const long MaxColdWorkingSet = 256L << 20;

    /// <summary>Assumed when sysfs does not say: 32 MiB.</summary>
    public const long FallbackLastLevelCache = 32L << 20;

    private static readonly Lazy<long?> Detected = new(Detect);

    /// <summary>The last-level cache of CPU 0 from Linux sysfs, or null where it cannot be read.</summary>
    public static long? DetectedLastLevelCache => Detected.Value;

    /// <summary>The last-level cache the policy uses: the detected size, else <see cref="FallbackLastLevelCache"/>.</summary>
    public static long LastLevelCache => Detected.Value ?? FallbackLastLevelCache;

    /// <summary>How many x/y sets to rotate through.</summary>
    /// <param name="bytesPerSet">x's bytes plus y's bytes.</param>
    /// <param name="lastLevelCache">The last-level cache in bytes.</param>
    /// <returns>1 for a set that fits in half the cache; otherwise the fewest sets whose total exceeds min(4 × cache, 256 MiB), at least 2.</returns>
    public static int BufferSets(long bytesPerSet, long lastLevelCache)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lastLevelCache);
        if (bytesPerSet * 2 <= lastLevelCache)
        {
            return 1;
        }

        long target = Math.Min(4 * lastLevelCache, MaxColdWorkingSet);
        return (int)Math.Max(2, (target / bytesPerSet) + 1);
    }

    /// <summary>Parses a sysfs cache size: <c>32768K</c>, <c>1M</c>, <c>512</c>.</summary>
    /// <param name="text">The file's text.</param>
    /// <returns>The size in bytes, or null.</returns>
    public static long? ParseSize(string text)
    {
        string t = text.Trim();
        long unit = 1;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            unit = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1L << 10,
                'M' => 1L << 20,
                'G' => 1L << 30,
                _ => 0,
            };
            t = t[..^1];
        }

        return unit > 0 && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 ? value * unit : null;
    }

    private static long? Detect()
    {
        const string Root = "/sys/devices/system/cpu/cpu0/cache";
        try
        {
            if (!Directory.Exists(Root))
            {
                return null;
            }

            int bestLevel = 0;
            long? best = null;
            foreach (string index in Directory.EnumerateDirectories(Root, "index*"))
            {
                string levelFile = Path.Combine(index, "level");
                string sizeFile = Path.Combine(index, "size");
                if (!File.Exists(levelFile) || !File.Exists(sizeFile) ||
                    !int.TryParse(File.ReadAllText(levelFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int level))
                {
                    continue;
                }

                long? size = ParseSize(File.ReadAllText(sizeFile));
                if (size is not null && level > bestLevel)
                {
                    (bestLevel, best) = (level, size);
                }
            }

            return best;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
