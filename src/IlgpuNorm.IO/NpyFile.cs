using System.Buffers.Binary;
using System.Text;

namespace IlgpuNorm.IO;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1.0 and 2.0) holding little-endian
/// <c>&lt;f4</c>, <c>&lt;f2</c>, <c>&lt;f8</c> or <c>&lt;u2</c> (bfloat16 bits) arrays in C order.
/// </summary>
/// <remarks>
/// <para>Layout: the magic <c>\x93NUMPY</c>, the version (two bytes), the header length (uint16 in 1.0, uint32 in
/// 2.0, little-endian), the header (a Python dict literal, Latin-1, padded with spaces and a final newline so that
/// the data starts at a multiple of 64 bytes), then the data.</para>
/// <para>Writing produces the same bytes as <c>numpy.save</c> (NumPy 1.24 and later): version 1.0 unless the header
/// needs 2.0. Writing to a path is atomic: the file is written next to its destination under a temporary name and
/// then moved over it, so a failed write leaves no partial file and leaves an existing file untouched.</para>
/// <para>Reading is strict: anything malformed, a Fortran-order array, another dtype, or data longer or shorter
/// than the shape needs is a <see cref="NpyFormatException"/> whose message names the problem.</para>
/// </remarks>
public static class NpyFile
{
    /// <summary>The data offset is a multiple of this many bytes, as NumPy writes it (<c>ARRAY_ALIGN</c>).</summary>
    public const int Alignment = 64;

    /// <summary>The longest header read (NumPy's own default limit is 10,000 characters).</summary>
    private const int MaxHeaderLength = 1 << 20;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a <c>.npy</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="NpyFormatException">The file is malformed or unsupported; the message starts with the path.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (for example <see cref="FileNotFoundException"/>).</exception>
    public static NpyArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            return Read(stream);
        }
        catch (NpyFormatException ex)
        {
            throw new NpyFormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Reads one <c>.npy</c> array from the stream's position to its end.</summary>
    /// <param name="stream">The stream; read to its end, not disposed.</param>
    /// <returns>The array.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="NpyFormatException">
    /// Bad magic, an unsupported version, a truncated header, a header length past the end, an unparseable header dict,
    /// missing or unexpected keys, Fortran order, an unsupported or big-endian descr, or data shorter or longer than the shape needs.
    /// </exception>
    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..8], 8, throwOnEndOfStream: false);
        int magicSeen = Math.Min(got, Magic.Length);
        if (!prefix[..magicSeen].SequenceEqual(Magic[..magicSeen]))
        {
            throw new NpyFormatException(
                $"Bad magic: expected a file starting with \\x93NUMPY; got {Convert.ToHexString(prefix[..magicSeen])} (hex).");
        }

        if (got < 8)
        {
            throw new NpyFormatException(got == 0
                ? "Truncated header: the file is empty."
                : $"Truncated header: the file ends after {got} bytes, before the magic string and version (8 bytes).");
        }

        int lengthSize = (prefix[6], prefix[7]) switch
        {
            (1, 0) => 2,
            (2, 0) => 4,
            _ => throw new NpyFormatException($"Unsupported format version {prefix[6]}.{prefix[7]}; expected 1.0 or 2.0."),
        };

        got = stream.ReadAtLeast(prefix[8..(8 + lengthSize)], lengthSize, throwOnEndOfStream: false);
        if (got < lengthSize)
        {
            throw new NpyFormatException($"Truncated header: the file ends inside the {lengthSize}-byte header length field.");
        }

        long headerLength = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (headerLength > MaxHeaderLength)
        {
            throw new NpyFormatException($"Header length {headerLength} exceeds the limit of {MaxHeaderLength} bytes.");
        }

        byte[] headerBytes = ReadExactly(stream, (int)headerLength, last: false, got =>
            new NpyFormatException($"Header length {headerLength} runs past the end of the file: only {got} bytes follow the length field."));
        var (descr, shape) = NpyHeader.Parse(Encoding.Latin1.GetString(headerBytes));
        int itemSize = NpyDescr.ItemSize(descr);
        long count = 1;
        foreach (int dim in shape)
        {
            count *= dim;
            if (count * itemSize > Array.MaxLength)
            {
                throw new NpyFormatException(
                    $"Shape {NpyHeader.FormatShape(shape)} of {descr} needs more than {Array.MaxLength} bytes; arrays that large are not supported.");
            }
        }

        long expected = count * itemSize;
        byte[] data = ReadExactly(stream, (int)expected, last: true, got => DataSizeMismatch(descr, shape, expected, got));
        if (stream.ReadByte() >= 0)
        {
            throw new NpyFormatException(
                $"Data is longer than shape {NpyHeader.FormatShape(shape)} of {descr} needs ({expected} bytes): extra bytes follow.");
        }

        return new NpyArray(descr, shape, data);
    }

    /// <summary>Writes an array to a <c>.npy</c> file, atomically, as <c>numpy.save</c> would.</summary>
    /// <typeparam name="T"><see cref="float"/> (<c>&lt;f4</c>), <see cref="Half"/> (<c>&lt;f2</c>), <see cref="double"/> (<c>&lt;f8</c>), <see cref="BFloat16"/> or <see cref="ushort"/> (<c>&lt;u2</c>).</typeparam>
    /// <param name="path">The destination; replaced if it exists.</param>
    /// <param name="data">The elements, C order.</param>
    /// <param name="shape">The shape; empty for a scalar.</param>
    /// <exception cref="ArgumentException">The path is null or empty, T has no descr, or the number of elements is not the shape's element count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="IOException">The file cannot be written; the destination is then unchanged.</exception>
    public static void Write<T>(string path, ReadOnlySpan<T> data, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Write(path, NpyArray.Create(data, shape));
    }

    /// <summary>Writes an array to a <c>.npy</c> file, atomically, as <c>numpy.save</c> would.</summary>
    /// <param name="path">The destination; replaced if it exists.</param>
    /// <param name="array">The array.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="array"/> is null.</exception>
    /// <exception cref="IOException">The file cannot be written; the destination is then unchanged.</exception>
    public static void Write(string path, NpyArray array)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        AtomicFile.Write(path, stream => Write(stream, array));
    }

    /// <summary>Writes an array in <c>.npy</c> format to a stream, as <c>numpy.save</c> would (not atomic).</summary>
    /// <param name="stream">The stream; not disposed.</param>
    /// <param name="array">The array.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="array"/> is null.</exception>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        stream.Write(EncodeHeader(array.Descr, array.Shape));
        stream.Write(array.Data);
    }

    /// <summary>
    /// The magic, version, header length and padded header NumPy writes: version 1.0 unless the header needs more than
    /// 65,535 bytes; padded with spaces and a final newline so that the total is a multiple of <see cref="Alignment"/>
    /// (NumPy adds a full 64 bytes of padding when the header would already end on the boundary). For writing dtypes
    /// <see cref="NpyArray"/> does not hold (the CLI's <c>|i1</c> and <c>|u1</c> quantized codes): the header, then the raw bytes.
    /// </summary>
    /// <param name="descr">The dtype descriptor, as NumPy writes it (<c>&lt;f4</c>, <c>|i1</c>, ...); not checked.</param>
    /// <param name="shape">The shape, C order.</param>
    /// <returns>The bytes that precede the data.</returns>
    /// <exception cref="ArgumentException"><paramref name="descr"/> is null or empty.</exception>
    public static byte[] EncodeHeader(string descr, ReadOnlySpan<int> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(descr);
        byte[] dict = Encoding.Latin1.GetBytes(NpyHeader.Format(descr, shape) + "\n");
        int Padding(int prefix) => Alignment - ((prefix + dict.Length) % Alignment);
        bool version2 = dict.Length + Padding(Magic.Length + 4) > ushort.MaxValue;
        int prefixLength = Magic.Length + (version2 ? 6 : 4);
        int headerLength = dict.Length + Padding(prefixLength);
        byte[] bytes = new byte[prefixLength + headerLength];
        Magic.CopyTo(bytes);
        bytes[6] = version2 ? (byte)2 : (byte)1;
        if (version2)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }

        bytes.AsSpan(prefixLength).Fill((byte)' ');
        dict.AsSpan(0, dict.Length - 1).CopyTo(bytes.AsSpan(prefixLength));
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static NpyFormatException DataSizeMismatch(string descr, int[] shape, long expected, long actual) =>
        new($"Data size does not match the shape: shape {NpyHeader.FormatShape(shape)} of {descr} needs {expected} bytes; " +
            $"the file holds {actual} ({(actual < expected ? "too short" : "too long")}).");

    /// <summary>
    /// Reads <paramref name="count"/> bytes or throws <paramref name="wrongSize"/>(the bytes there): up front when the stream's
    /// length is known (then also when more than <paramref name="count"/> follow and this is the <paramref name="last"/> block).
    /// Otherwise the buffer grows as data arrives, so a header cannot make it allocate more than the stream holds.
    /// </summary>
    private static byte[] ReadExactly(Stream stream, int count, bool last, Func<long, NpyFormatException> wrongSize)
    {
        long? remaining = stream.CanSeek ? stream.Length - stream.Position : null;
        if (remaining < count || (last && remaining > count))
        {
            throw wrongSize(remaining!.Value);
        }

        const int Chunk = 1 << 20;
        byte[] buffer = new byte[Math.Min(count, Chunk)];
        int filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(count, (long)buffer.Length * 2));
            }

            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                throw wrongSize(filled);
            }

            filled += read;
        }

        return buffer;
    }
}
