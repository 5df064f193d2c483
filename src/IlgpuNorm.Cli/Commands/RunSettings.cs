namespace IlgpuNorm.Cli.Commands;

/// <summary>What <c>ilgpunorm run</c> was given, as text, exactly as on the command line.</summary>
/// <param name="Input">--input: the .npy input.</param>
/// <param name="Output">--output: the .npy to write (atomically).</param>
/// <param name="NormalizedShape">--normalized-shape: D[,D...].</param>
internal sealed record RunSettings(string Input, string Output, string NormalizedShape)
{
    /// <summary>--weight: a .npy of the normalized shape, in the input's dtype.</summary>
    public string? Weight { get; init; }

    /// <summary>--eps.</summary>
    public string? Epsilon { get; init; }

    /// <summary>--num-groups.</summary>
    public string? NumGroups { get; init; }

    /// <summary>--device.</summary>
    public string? Device { get; init; }

    /// <summary>--dtype: only <c>bfloat16</c>, which reads <c>&lt;u2</c> files as bfloat16 bits.</summary>
    public string? DType { get; init; }
}
