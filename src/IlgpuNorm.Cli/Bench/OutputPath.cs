namespace IlgpuNorm.Cli.Bench;

/// <summary>Checks an output path before any work (the file itself is written by <see cref="IO.AtomicFile"/>).</summary>
internal static class OutputPath
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
            using var probe = new FileStream(Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option}: cannot write '{path}': {CommandEdge.OneLine(ex.Message)}", ex);
        }

        return full;
    }
}
