namespace IlgpuNorm.IO;

/// <summary>Writes a file whole or not at all: a temporary file beside it, flushed, then renamed over it.</summary>
/// <remarks>What <see cref="NpyFile"/> writes through; public for tools that write other files the same way (the ilgpunorm CLI's JSON and charts).</remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically: readers see the old file or the whole new one; on failure the old one stays.</summary>
    /// <param name="path">The destination; replaced if it exists.</param>
    /// <param name="write">Writes the content.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> names no file.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="write"/> is null.</exception>
    /// <exception cref="IOException">The file cannot be written; an existing file is then unchanged.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{full}' names no file.", nameof(path));
        string temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The write's own failure is the one to report.
            }

            throw;
        }
    }
}
