using IlgpuNorm.IO;

namespace IlgpuNorm.Cli.Commands;

/// <summary>Reading, checking and writing the .npy arrays of <c>run --quantize</c> and <c>backward</c>; every failure is a one-line usage error naming the option.</summary>
internal static class CliArrays
{
    public static bool BFloat16Flag(string? dtype) => dtype switch
    {
        null => false,
        _ when dtype.Equals("bfloat16", StringComparison.OrdinalIgnoreCase) || dtype.Equals("bf16", StringComparison.OrdinalIgnoreCase) => true,
        _ => throw new UsageException($"--dtype: expected bfloat16 (the only dtype that needs naming; others come from the file); got '{dtype}'"),
    };

    public static void RequirePath(string option, [System.Diagnostics.CodeAnalysis.NotNull] string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new UsageException($"{option}: expected a file path; got an empty one");
        }
    }

    public static NpyArray Read(string option, string? path)
    {
        RequirePath(option, path);
        try
        {
            return NpyFile.Read(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UsageException($"{option}: file not found: {path}");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UsageException($"{option}: cannot read {path}: {ex.Message}", ex);
        }
        catch (NpyFormatException ex)
        {
            throw new UsageException($"{option}: {ex.Message}", ex);
        }
    }

    public static void CheckDType(string option, NpyArray x, bool bfloat16)
    {
        if (x.ElementType == ElementType.BFloat16 && !bfloat16)
        {
            throw new UsageException($"{option}: descr <u2 is read only as bfloat16 bits; pass --dtype bfloat16");
        }

        if (bfloat16 && x.ElementType != ElementType.BFloat16)
        {
            throw new UsageException($"--dtype bfloat16: expected a <u2 {option} (bfloat16 bits); got {x.Descr}");
        }
    }

    public static void CheckShapes(ReadOnlySpan<int> shape, int[] normalizedShape, int numGroups)
    {
        if (shape.Length < normalizedShape.Length || !shape[^normalizedShape.Length..].SequenceEqual(normalizedShape))
        {
            throw new UsageException(
                $"--normalized-shape: {CliParsing.Format(normalizedShape)} does not match the input's trailing dimensions (input shape {CliParsing.Format(shape)})");
        }

        if (numGroups > 1 && normalizedShape.Length != 1)
        {
            throw new UsageException($"--num-groups: {numGroups} groups need exactly one normalized dimension; got {CliParsing.Format(normalizedShape)}");
        }

        if (normalizedShape[0] % numGroups != 0)
        {
            throw new UsageException($"--num-groups: {numGroups} does not divide the normalized size {normalizedShape[0]}");
        }
    }

    /// <summary>Reads an array that must have <paramref name="like"/>'s dtype and the given shape.</summary>
    public static NpyArray ReadLike(string option, string path, NpyArray like, ReadOnlySpan<int> shape)
    {
        var array = Read(option, path);
        if (array.Descr != like.Descr)
        {
            throw new UsageException($"{option}: dtype {array.Descr} differs from the input's {like.Descr}");
        }

        if (!array.Shape.SequenceEqual(shape))
        {
            throw new UsageException($"{option}: expected shape {CliParsing.Format(shape)}, got {CliParsing.Format(array.Shape)}");
        }

        return array;
    }

    public static NpyArray ReadWeight(string path, NpyArray x, int[] normalizedShape) => ReadLike("--weight", path, x, normalizedShape);

    public static void Write(string option, string path, NpyArray array) =>
        Guard(option, path, () => NpyFile.Write(path, array));

    /// <summary>Writes a one-byte-per-element .npy (<c>|i1</c> or <c>|u1</c>) atomically: NumPy's header, then the bytes.</summary>
    public static void WriteBytes(string option, string path, string descr, ReadOnlySpan<int> shape, byte[] data)
    {
        byte[] header = NpyFile.EncodeHeader(descr, shape);
        Guard(option, path, () => IO.AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            stream.Write(data);
        }));
    }

    private static void Guard(string option, string path, Action write)
    {
        try
        {
            write();
        }
        catch (DirectoryNotFoundException)
        {
            throw new UsageException($"{option}: directory not found: {Path.GetDirectoryName(Path.GetFullPath(path))}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option}: cannot write {path}: {ex.Message}", ex);
        }
    }
}
