namespace IlgpuNorm.Cli;

/// <summary>A usage or input error; its message is printed as <c>error: …</c> and the exit code is <see cref="ExitCodes.Usage"/>.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
