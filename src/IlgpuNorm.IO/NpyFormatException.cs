namespace IlgpuNorm.IO;

/// <summary>A <c>.npy</c> file is malformed or uses a feature IlgpuNorm does not read; the message names the problem.</summary>
/// <remarks>
/// An <see cref="IOException"/> (<see cref="InvalidDataException"/>, the natural base, is sealed), so code that already
/// handles read failures of a file handles a malformed one too.
/// </remarks>
public sealed class NpyFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    public NpyFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong with the file.</param>
    public NpyFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is wrong with the file.</param>
    /// <param name="innerException">The cause.</param>
    public NpyFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
