namespace IlgpuNorm.Cli.Bench;

/// <summary>
/// Progress on stderr while the measurements run: on a terminal one line rewritten in place (carriage return),
/// otherwise one line per finished measurement.
/// </summary>
internal sealed class BenchProgress(TextWriter stderr, bool terminal, int total)
{
    private int done;
    private int shown;

    /// <summary>Whether <paramref name="stderr"/> is the process's own stderr and a terminal.</summary>
    public static bool IsTerminal(TextWriter stderr) => ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Announces a measurement (terminal only: a line that the next update overwrites).</summary>
    public void Starting(string what)
    {
        if (terminal)
        {
            Show($"[{done + 1}/{total}] {what} ...");
        }
    }

    /// <summary>Reports a finished measurement.</summary>
    public void Finished(string line)
    {
        done++;
        if (terminal)
        {
            Show($"[{done}/{total}] {line}");
        }
        else
        {
            stderr.WriteLine($"[{done}/{total}] {line}");
        }
    }

    /// <summary>Writes a line that stays (a failure), clearing the progress line first.</summary>
    public void Message(string line)
    {
        Clear();
        stderr.WriteLine(line);
    }

    /// <summary>Clears the progress line, so what follows starts on a clean line.</summary>
    public void Clear()
    {
        if (terminal && shown > 0)
        {
            stderr.Write("\r" + new string(' ', shown) + "\r");
            stderr.Flush();
            shown = 0;
        }
    }

    private void Show(string line)
    {
        int width = Math.Max(20, (Console.IsErrorRedirected ? 80 : SafeWindowWidth()) - 1);
        string text = line.Length > width ? line[..width] : line;
        stderr.Write("\r" + text.PadRight(shown));
        stderr.Flush();
        shown = text.Length;
    }

    private static int SafeWindowWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
