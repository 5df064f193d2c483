namespace IlgpuNorm.Cli;

/// <summary>The process exit codes of <c>ilgpunorm</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Success (for <c>verify</c> and <c>demo</c>: every check passed).</summary>
    public const int Success = 0;

    /// <summary>A runtime failure: a check failed, a write failed, a device failed while running.</summary>
    public const int Failure = 1;

    /// <summary>A usage or input error: bad option, unreadable or malformed input, mismatched shapes or dtypes, unknown device.</summary>
    public const int Usage = 2;
}
