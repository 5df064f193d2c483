using IlgpuNorm.Host;

namespace IlgpuNorm.Benchmarking;

/// <summary>
/// Whether a host measurement reads x from cache or from memory, for every benchmark (<c>ilgpunorm bench</c> and the
/// BenchmarkDotNet project). A set of buffers (x and y, or every tensor of a fused call) that fits in half the
/// last-level cache is measured cache-hot with one set (as an activation just written by the previous layer); a larger
/// one rotates through enough sets that together they hold at least max(4 × L3, 512 MiB), and at least two, so every
/// call reads x from memory.
/// </summary>
public static class CachePolicy
{
    /// <summary>The working set that suffices whatever the cache (and a cache misread by sysfs): 512 MiB.</summary>
    public const long MinColdWorkingSet = 512L << 20;

    /// <summary>Assumed when sysfs does not say: 32 MiB.</summary>
    public const long FallbackLastLevelCache = HostCache.FallbackBytes;

    /// <summary>The last-level cache of CPU 0 from Linux sysfs, or null where it cannot be read (the library's own reader).</summary>
    public static long? DetectedLastLevelCache => HostCache.Detected;

    /// <summary>The last-level cache the policy uses: the detected size, else <see cref="FallbackLastLevelCache"/>.</summary>
    public static long LastLevelCache => HostCache.LastLevelBytes;

    /// <summary>How many buffer sets to rotate through on this machine.</summary>
    /// <param name="bytesPerSet">The bytes of one set: x's plus y's (plus any other tensor a call moves).</param>
    /// <returns>See <see cref="BufferSets(long, long)"/>.</returns>
    public static int BufferSets(long bytesPerSet) => BufferSets(bytesPerSet, LastLevelCache);

    /// <summary>How many buffer sets to rotate through.</summary>
    /// <param name="bytesPerSet">The bytes of one set: x's plus y's (plus any other tensor a call moves).</param>
    /// <param name="lastLevelCache">The last-level cache in bytes.</param>
    /// <returns>1 for a set that fits in half the cache; otherwise the fewest sets that hold max(4 × cache, 512 MiB), at least 2.</returns>
    public static int BufferSets(long bytesPerSet, long lastLevelCache)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSet);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lastLevelCache);
        if (bytesPerSet * 2 <= lastLevelCache)
        {
            return 1;
        }

        long target = Math.Max(4 * lastLevelCache, MinColdWorkingSet);
        return (int)Math.Max(2, (target + bytesPerSet - 1) / bytesPerSet);
    }
}
