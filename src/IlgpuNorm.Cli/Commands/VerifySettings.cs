namespace IlgpuNorm.Cli.Commands;

/// <summary>What <c>ilgpunorm verify</c> was given.</summary>
internal sealed record VerifySettings
{
    /// <summary>The default seed.</summary>
    public const int DefaultSeed = 1234;

    /// <summary>The default number of cases per dtype on a fast backend.</summary>
    public const int DefaultCases = 24;

    /// <summary>--device: <c>all</c> (default: every backend found) or one device request.</summary>
    public string? Device { get; init; }

    /// <summary>--seed.</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>--cases: random cases per dtype and backend (ILGPU's CPU accelerator runs a third of them, with fewer rows).</summary>
    public int Cases { get; init; } = DefaultCases;
}
