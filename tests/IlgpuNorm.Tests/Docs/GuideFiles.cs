using System.Text.RegularExpressions;

namespace IlgpuNorm.Tests.Docs;

/// <summary>Reads docs/guides and the snippets of <see cref="GuideSamples"/> from the source tree.</summary>
internal static partial class GuideFiles
{
    public static string Root { get; } = FindRoot();

    public static string GuidesFolder => Path.Combine(Root, "docs", "guides");

    public static string SamplesFile => Path.Combine(Root, "tests", "IlgpuNorm.Tests", "Docs", "GuideSamples.cs");

    /// <summary>Snippet name → its text, dedented, trailing spaces removed.</summary>
    public static Dictionary<string, string> Snippets()
    {
        var snippets = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] lines = File.ReadAllLines(SamplesFile);
        for (int i = 0; i < lines.Length; i++)
        {
            var begin = BeginSnippet().Match(lines[i]);
            if (!begin.Success)
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, l => l.Trim() == "// end-snippet");
            if (end < 0)
            {
                throw new InvalidOperationException($"snippet '{begin.Groups[1].Value}' has no // end-snippet");
            }

            snippets.Add(begin.Groups[1].Value, Normalize(lines[(i + 1)..end]));
            i = end;
        }

        return snippets;
    }

    /// <summary>Every ```csharp block of a guide, with the snippet name of the <c>&lt;!-- snippet: NAME --&gt;</c> line above it (null when missing).</summary>
    public static List<(int Line, string? Snippet, string Code)> CSharpBlocks(string guide)
    {
        var blocks = new List<(int, string?, string)>();
        string[] lines = File.ReadAllLines(Path.Combine(GuidesFolder, guide));
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp")
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, l => l.Trim() == "```");
            int previous = i - 1;
            while (previous >= 0 && lines[previous].Trim().Length == 0)
            {
                previous--;
            }

            var marker = previous >= 0 ? SnippetMarker().Match(lines[previous]) : Match.Empty;
            blocks.Add((i + 1, marker.Success ? marker.Groups[1].Value : null, Normalize(lines[(i + 1)..end])));
            i = end;
        }

        return blocks;
    }

    /// <summary>The <c>ilgpunorm …</c> lines of a guide's ```sh blocks, without their comments.</summary>
    public static List<string> CliLines(string guide)
    {
        var commands = new List<string>();
        bool inShell = false;
        foreach (string raw in File.ReadAllLines(Path.Combine(GuidesFolder, guide)))
        {
            string line = raw.Trim();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inShell = !inShell && line == "```sh";
                continue;
            }

            int comment = line.IndexOf(" #", StringComparison.Ordinal);
            string command = (comment >= 0 ? line[..comment] : line).Trim();
            if (inShell && command.StartsWith("ilgpunorm ", StringComparison.Ordinal))
            {
                commands.Add(command);
            }
        }

        return commands;
    }

    public static string[] SplitArguments(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A file or folder argument of the guide, relative to the folder the commands run in.</summary>
    public static bool IsPath(string argument) =>
        argument.EndsWith(".npy", StringComparison.Ordinal) || argument.EndsWith(".json", StringComparison.Ordinal) ||
        argument.EndsWith(".png", StringComparison.Ordinal) || (argument.EndsWith('/') && !argument.StartsWith('-'));

    private static string Normalize(string[] lines)
    {
        var trimmed = lines.Select(l => l.TrimEnd()).ToList();
        int indent = trimmed.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', trimmed.Select(l => l.Length >= indent ? l[indent..] : l)).Trim('\n');
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "docs", "guides")) && File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no docs/guides above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^\s*// begin-snippet: ([a-z0-9-]+)\s*$")]
    private static partial Regex BeginSnippet();

    [GeneratedRegex(@"^\s*<!-- snippet: ([a-z0-9-]+) -->\s*$")]
    private static partial Regex SnippetMarker();
}
