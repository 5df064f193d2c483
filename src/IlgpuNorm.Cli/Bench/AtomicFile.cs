namespace IlgpuNorm.Cli.Bench;

/// <summary>Writes a file whole or not at all: a temporary file beside it, then a rename over it.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Checks, before any work, that <paramref name="path"/> can be written: its folder exists, it is not a folder,
    /// and a file can be created beside it.
    /// </summary>
    /// <param name="option">The option, for the message.</param>
    /// <param name="path">The path as given.</param>
    /// <returns>The full path.</returns>
    /// <exception cref="UsageException">The path cannot be written; the message names the option and why.</exception>
    public static string CheckWritable(string option, string path)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"{option}: cannot write '{path}': {ex.Message}", ex);
        }

        string? folder = Path.GetDirectoryName(full);
        if (string.IsNullOrEmpty(path.Trim()) || Directory.Exists(full) || folder is null)
        {
            throw new UsageException($"{option}: cannot write '{path}': it is a folder, not a file");
        }

        if (!Directory.Exists(folder))
        {
            throw new UsageException($"{option}: cannot write '{path}': folder '{folder}' does not exist");
        }

        try
        {
            using var probe = new FileStream(TempPath(full), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option}: cannot write '{path}': {CommandEdge.OneLine(ex.Message)}", ex);
        }

        return full;
    }

    /// <summary>Writes a file atomically: readers see the old file or the whole new one, never part of it.</summary>
    /// <param name="path">The full path.</param>
    /// <param name="write">Writes the content.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string temp = TempPath(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // nothing there after a successful move
        }
    }

    private static string TempPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
}
