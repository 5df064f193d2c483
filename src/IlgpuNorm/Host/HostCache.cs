using System.Globalization;

namespace IlgpuNorm.Host;

/// <summary>
/// The last-level cache size: the one reader, for the host's streaming-store decision and for the bench harness's buffer
/// sets (<c>IlgpuNorm.Benchmarking.CachePolicy</c>). Linux's sysfs, the highest cache level of CPU 0; 32 MiB where it says nothing.
/// </summary>
internal static class HostCache
{
    /// <summary>Assumed when sysfs does not say: 32 MiB.</summary>
    public const long FallbackBytes = 32L << 20;

    /// <summary>The detected last-level cache in bytes, or null where sysfs cannot be read.</summary>
    public static long? Detected { get; } = Detect();

    /// <summary>The last-level cache in bytes: <see cref="Detected"/>, else <see cref="FallbackBytes"/>.</summary>
    public static long LastLevelBytes => Detected ?? FallbackBytes;

    /// <summary>
    /// Whether a call moving <paramref name="bytes"/> (read and written) is more than half the last-level cache: its rows
    /// come from memory, and its output would not stay. At exactly the cache's size (bfloat16 and float16 [1024, 8192]
    /// on a 32 MiB L3) the ordinary path took 1.3-1.4x the streaming one from memory (`ilgpunorm bench`, Zen 5 VM);
    /// float32 [768, 4096] (24 MiB) streamed in 0.94-0.95x the time, cache-hot or not.
    /// </summary>
    public static bool ShouldStream(long bytes) => bytes > LastLevelBytes / 2;

    /// <summary>
    /// The longest forward row (bytes of input) whose map still prefetches the next row. Paired rounds on the Zen 5 VM
    /// (float32, both widths, time without the prefetch over time with it): 12 and 16 KiB rows 1.02-1.18 (the prefetch
    /// pays), 8 KiB rows 0.95-1.02, 20, 24 and 32 KiB rows 0.85-0.99 (it costs: the hardware prefetcher already streams
    /// long rows).
    /// </summary>
    public const int PrefetchedRowBytes = 16 << 10;

    /// <summary>How a forward row map of <paramref name="rowBytes"/> input bytes treats memory in a call from memory.</summary>
    public static RowTraffic StreamedTraffic(int rowBytes) => rowBytes <= PrefetchedRowBytes ? RowTraffic.Streamed : RowTraffic.StreamedOnly;

    /// <summary>Parses a sysfs cache size: <c>32768K</c>, <c>1M</c>, <c>512</c>; null when it is not one.</summary>
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
