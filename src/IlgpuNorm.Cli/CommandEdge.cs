using IlgpuNorm.IO;

namespace IlgpuNorm.Cli;

/// <summary>
/// Where exceptions stop: each command body runs inside <see cref="Run"/>, which turns an exception into exactly one
/// <c>error: …</c> line on stderr and an exit code, never a stack trace.
/// </summary>
internal static class CommandEdge
{
    /// <summary>Runs a command body and maps its exceptions to exit codes.</summary>
    /// <param name="stderr">Receives the error line.</param>
    /// <param name="body">The command.</param>
    /// <returns>The body's exit code, or <see cref="ExitCodes.Usage"/> / <see cref="ExitCodes.Failure"/> on an exception.</returns>
    public static int Run(TextWriter stderr, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (IsUsageError(ex))
        {
            stderr.WriteLine("error: " + OneLine(ex.Message));
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine("error: " + OneLine(ex.Message));
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The command edge: anything else is a runtime failure, reported in one line.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            stderr.WriteLine($"error: {ex.GetType().Name}: {OneLine(ex.Message)}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>A message on one line.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The message with line breaks replaced by spaces.</returns>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static bool IsUsageError(Exception ex) =>
        ex is UsageException or NpyFormatException or FileNotFoundException or DirectoryNotFoundException
            or DeviceUnavailableException or ArgumentException;
}
