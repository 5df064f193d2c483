using System.Text.RegularExpressions;
using Xunit;

namespace IlgpuNorm.Tests.Docs;

/// <summary>The guides' code is the tested code: every ```csharp block is a snippet of <see cref="GuideSamples"/>, verbatim.</summary>
public partial class GuideSnippetTests
{
    public static readonly string[] Guides =
    [
        "01-getting-started.md", "02-gpu-pipelines.md", "03-devices.md", "04-numerics.md", "05-command-line.md",
    ];

    public static TheoryData<string> AllGuides() => [.. Guides];

    [Theory]
    [MemberData(nameof(AllGuides))]
    public void EveryCSharpBlock_IsATestedSnippet_Verbatim(string guide)
    {
        var snippets = GuideFiles.Snippets();
        var blocks = GuideFiles.CSharpBlocks(guide);
        Assert.NotEmpty(blocks);
        foreach (var (line, name, code) in blocks)
        {
            Assert.True(name is not null, $"{guide}:{line}: a ```csharp block without a <!-- snippet: NAME --> line above it");
            Assert.True(snippets.TryGetValue(name!, out string? snippet), $"{guide}:{line}: unknown snippet '{name}' (not in GuideSamples.cs)");
            Assert.True(snippet == code, $"{guide}:{line}: the block differs from snippet '{name}':\n--- guide\n{code}\n--- GuideSamples.cs\n{snippet}");
        }
    }

    [Fact]
    public void EverySnippet_AppearsInAGuide_AndNoGuideHasOtherCodeBlocks()
    {
        var used = GuideSnippetTests.Guides.SelectMany(g => GuideFiles.CSharpBlocks(g).Select(b => b.Snippet)).ToHashSet();
        Assert.All(GuideFiles.Snippets().Keys, name => Assert.True(used.Contains(name), $"snippet '{name}' is in no guide"));
        foreach (string guide in Guides)
        {
            foreach (string fence in File.ReadAllLines(Path.Combine(GuideFiles.GuidesFolder, guide)).Select(l => l.Trim()).Where(l => l.StartsWith("```", StringComparison.Ordinal) && l.Length > 3))
            {
                // csharp is checked above; sh only in guide 5, where every ilgpunorm line runs (GuideSamples.Cli_EveryCommandOfTheGuideRuns).
                Assert.True(fence == "```csharp" || (fence == "```sh" && guide == "05-command-line.md") || fence == "```text",
                    $"{guide}: a {fence} block is neither tested nor plain text");
            }
        }
    }

    [Fact]
    public void Guides_LinkOnlyToFilesThatExist()
    {
        Assert.Equal(Guides.Order(StringComparer.Ordinal), Directory.GetFiles(GuideFiles.GuidesFolder, "*.md").Select(Path.GetFileName).Where(n => n != "README.md").Order(StringComparer.Ordinal));
        foreach (string guide in Guides.Append("README.md"))
        {
            string text = File.ReadAllText(Path.Combine(GuideFiles.GuidesFolder, guide));
            foreach (Match link in RelativeLink().Matches(text))
            {
                string target = link.Groups[1].Value.Split('#')[0];
                Assert.True(File.Exists(Path.Combine(GuideFiles.GuidesFolder, target)) || Directory.Exists(Path.Combine(GuideFiles.GuidesFolder, target)),
                    $"{guide}: broken link {link.Value}");
            }
        }
    }

    [GeneratedRegex(@"\]\((?!https?:|#)([^)\s]+)\)")]
    private static partial Regex RelativeLink();
}
