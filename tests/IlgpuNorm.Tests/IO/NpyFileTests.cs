using System.Buffers.Binary;
using System.Text;
using IlgpuNorm.IO;
using Xunit;

namespace IlgpuNorm.Tests.IO;

public sealed class NpyFileTests : IDisposable
{
    private const string ValidHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    private readonly string directory = Directory.CreateTempSubdirectory("npy-tests-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    public static TheoryData<int[]> Shapes => new()
    {
        Array.Empty<int>(),
        new[] { 5 },
        new[] { 1 },
        new[] { 0 },
        new[] { 2, 3 },
        new[] { 3, 0, 4 },
        new[] { 2, 3, 4, 5 },
        new[] { 7, 1000 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_Float32(int[] shape) => AssertRoundTrip(shape, i => (float)(i * 0.37 - 11), "<f4");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_Float16(int[] shape) => AssertRoundTrip(shape, i => (Half)(i * 0.37 - 11), "<f2");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_Float64(int[] shape) => AssertRoundTrip(shape, i => i * 0.37 - 11, "<f8");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundTrip_BFloat16(int[] shape) => AssertRoundTrip(shape, i => (BFloat16)(float)(i * 0.37 - 11), "<u2");

    [Fact]
    public void RoundTrip_SpecialValuesKeepTheirBits()
    {
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue];
        string path = PathOf("special.npy");
        NpyFile.Write<float>(path, values, [values.Length]);
        float[] back = NpyFile.Read(path).ToArray<float>();
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), back.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void Scalar_IsRankZeroWithOneElement()
    {
        string path = PathOf("scalar.npy");
        NpyFile.Write<double>(path, [42.5], []);
        var array = NpyFile.Read(path);
        Assert.Equal(0, array.Rank);
        Assert.Equal(1, array.Length);
        Assert.Equal([42.5], array.ToArray<double>());
        Assert.Matches("^\\{'descr': '<f8', 'fortran_order': False, 'shape': \\(\\), \\} *\n$", HeaderText(File.ReadAllBytes(path)));
    }

    [Fact]
    public void BFloat16_ReadsAsUInt16Bits()
    {
        string path = PathOf("bits.npy");
        NpyFile.Write<ushort>(path, [0x3F80, 0xC000], [2]);
        var array = NpyFile.Read(path);
        Assert.Equal(ElementType.BFloat16, array.ElementType);
        Assert.Equal([1f, -2f], array.ToArray<BFloat16>().Select(b => (float)b));
    }

    [Theory]
    [InlineData(new int[0], "()")]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 2, 3 }, "(2, 3)")]
    [InlineData(new[] { 4096, 4096 }, "(4096, 4096)")]
    [InlineData(new[] { 123456789 }, "(123456789,)")]
    public void Header_IsPaddedTo64BytesAndEndsWithNewline_AsNumPyWrites(int[] shape, string shapeText)
    {
        byte[] header = NpyFile.EncodeHeader("<f4", shape);
        Assert.Equal(0, header.Length % NpyFile.Alignment);
        Assert.Equal((byte)'\n', header[^1]);
        Assert.Equal(1, header[6]);
        Assert.Equal(header.Length - 10, BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8)));

        // NumPy: the dict, then room for the first axis to grow to 21 digits, then spaces to the boundary.
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";
        int growth = shape.Length == 0 ? 0 : 21 - shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        string text = Encoding.Latin1.GetString(header, 10, header.Length - 10);
        Assert.StartsWith(dict + new string(' ', growth), text, StringComparison.Ordinal);
        Assert.Matches("^[^\n]* \n$", text);
    }

    [Fact]
    public void Header_ThatEndsOnTheBoundary_GetsAFull64BytesOfPadding_AsNumPyDoes()
    {
        // NumPy computes padlen = 64 - (len % 64), which is 64 (not 0) when magic + length + dict + newline is already
        // aligned. This shape makes the dict (growth spaces included) 117 characters: 10 + 117 + 1 = 128.
        int[] shape = [7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12, 12];
        Assert.Equal(117, NpyHeader.Format("<f4", shape).Length);
        byte[] header = NpyFile.EncodeHeader("<f4", shape);
        Assert.Equal(192, header.Length);
        Assert.EndsWith(", }" + new string(' ', 20 + 64) + "\n", Encoding.Latin1.GetString(header), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_UsesVersion2_WhenTheHeaderNeedsIt_AndReadsItBack()
    {
        int[] shape = Enumerable.Repeat(1, 23_000).ToArray();
        string path = PathOf("v2.npy");
        NpyFile.Write<float>(path, [3.5f], shape);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, (12 + (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))) % 64);
        var array = NpyFile.Read(path);
        Assert.Equal(shape.Length, array.Rank);
        Assert.Equal([3.5f], array.ToArray<float>());
    }

    [Fact]
    public void Read_Version2File()
    {
        byte[] bytes = Build(ValidHeader, new byte[24], major: 2);
        var array = NpyFile.Read(new MemoryStream(bytes));
        Assert.Equal([2, 3], array.Shape.ToArray());
        Assert.Equal(new float[6], array.ToArray<float>());
    }

    [Fact]
    public void Read_AcceptsKeysInAnyOrderDoubleQuotesAndNoPadding()
    {
        byte[] bytes = Build("{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f8\"}", new byte[48], pad: false);
        var array = NpyFile.Read(new MemoryStream(bytes));
        Assert.Equal("<f8", array.Descr);
        Assert.Equal([2, 3], array.Shape.ToArray());
    }

    [Fact]
    public void Read_FromANonSeekableStream()
    {
        float[] values = [1, 2, 3, 4, 5, 6];
        var buffer = new MemoryStream();
        NpyFile.Write(buffer, NpyArray.Create<float>(values, [2, 3]));
        var array = NpyFile.Read(new ForwardOnlyStream(buffer.ToArray()));
        Assert.Equal(values, array.ToArray<float>());
    }

    [Fact]
    public void Read_NonSeekable_ShortAndLongData_Throw()
    {
        Assert.Contains("too short", ReadError(new ForwardOnlyStream(Build(ValidHeader, new byte[23]))), StringComparison.Ordinal);
        Assert.Contains("longer", ReadError(new ForwardOnlyStream(Build(ValidHeader, new byte[25]))), StringComparison.Ordinal);
        Assert.Contains("past the end", ReadError(new ForwardOnlyStream(Build(ValidHeader, [])[..40])), StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "Bad magic", Encoding.ASCII.GetBytes("NOTNUMPY file with nonsense in it") },
        { "Bad magic", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'X', 1, 0, 0, 0] },
        { "Truncated header: the file is empty", [] },
        { "Truncated header", [0x93, (byte)'N', (byte)'U', (byte)'M'] },
        { "Truncated header", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1] },
        { "Truncated header", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x40] },
        { "Unsupported format version 3.0", Build(ValidHeader, new byte[24], major: 3) },
        { "Unsupported format version 1.5", Patch(Build(ValidHeader, new byte[24]), 7, 5) },
        { "past the end", Build(ValidHeader, new byte[24])[..50] },
        { "past the end", Patch(Build(ValidHeader, []), 8, 0xFF, 0xFF) },
        { "Unparseable header dict", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", new byte[24]) },
        { "Unparseable header dict", Build("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4', 'fortran_order': false, 'shape': (2, 3)}", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} trailing", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", new byte[24]) },
        { "Unparseable header dict", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", new byte[24]) },
        { "Unparseable header dict", Build(string.Empty, new byte[24]) },
        { "missing key 'shape'", Build("{'descr': '<f4', 'fortran_order': False, }", new byte[4]) },
        { "missing key 'descr'", Build("{'fortran_order': False, 'shape': (1,), }", new byte[4]) },
        { "missing key 'fortran_order'", Build("{'descr': '<f4', 'shape': (1,), }", new byte[4]) },
        { "unexpected key 'extra'", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", new byte[4]) },
        { "Fortran-order", Build("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new byte[24]) },
        { "'fortran_order' must be True or False", Build("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", new byte[24]) },
        { "big-endian descr '>f4'", Build("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]) },
        { "big-endian descr '>f8'", Build("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", new byte[48]) },
        { "Unsupported descr '<i4'", Build("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]) },
        { "Unsupported descr '|u1'", Build("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", new byte[6]) },
        { "Unsupported descr 'float32'", Build("{'descr': 'float32', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]) },
        { "Unsupported descr a list", Build("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new byte[8]) },
        { "'shape' must be a tuple", Build("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", new byte[24]) },
        { "'shape' must be a tuple", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", new byte[24]) },
        { "'shape' must hold ints", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", new byte[24]) },
        { "'shape' must hold ints", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (2, '3'), }", new byte[24]) },
        { "too short", Build(ValidHeader, new byte[23]) },
        { "too short", Build(ValidHeader, []) },
        { "too long", Build(ValidHeader, new byte[25]) },
        { "too long", Build(ValidHeader, new byte[48]) },
        { "too long", Build("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new byte[8]) },
        { "more than", Build("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", new byte[8]) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_Malformed_ThrowsNpyFormatException_NamingTheProblem(string problem, byte[] bytes)
    {
        Assert.Contains(problem, ReadError(new MemoryStream(bytes)), StringComparison.OrdinalIgnoreCase);

        // From a file, the message also names the path.
        string path = PathOf("bad.npy");
        File.WriteAllBytes(path, bytes);
        var fromFile = Assert.Throws<NpyFormatException>(() => NpyFile.Read(path));
        Assert.StartsWith(path, fromFile.Message, StringComparison.Ordinal);
        Assert.Contains(problem, fromFile.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', fromFile.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound() =>
        Assert.Throws<FileNotFoundException>(() => NpyFile.Read(PathOf("absent.npy")));

    [Fact]
    public void ToArray_OfTheWrongType_Throws()
    {
        var array = NpyArray.Create<float>([1, 2], [2]);
        var error = Assert.Throws<InvalidOperationException>(() => array.ToArray<double>());
        Assert.Contains("<f4", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => array.ToArray<BFloat16>());
        Assert.Throws<InvalidOperationException>(() => array.ToArray<int>());
    }

    [Fact]
    public void Write_ChecksItsArguments()
    {
        string path = PathOf("args.npy");
        Assert.Throws<ArgumentException>(() => NpyFile.Write<float>(path, [1, 2, 3], [2, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => NpyFile.Write<float>(path, [], [-1]));
        Assert.Throws<ArgumentException>(() => NpyFile.Write<int>(path, [1], [1]));
        Assert.Throws<ArgumentException>(() => NpyFile.Write<float>(string.Empty, [1], [1]));
        Assert.Throws<ArgumentException>(() => new NpyArray("<i4", [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => new NpyArray("<f4", [2], new byte[4]));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(directory));
    }

    [Fact]
    public void Write_ReplacesAnExistingFile()
    {
        string path = PathOf("replace.npy");
        NpyFile.Write<float>(path, [1, 2, 3], [3]);
        NpyFile.Write<double>(path, [4], [1, 1]);
        var array = NpyFile.Read(path);
        Assert.Equal("<f8", array.Descr);
        Assert.Equal([4.0], array.ToArray<double>());
        Assert.Single(Directory.GetFiles(directory));
    }

    [Fact]
    public void Write_ThatFails_LeavesTheExistingFileUntouchedAndNoTemporaryFile()
    {
        string path = PathOf("keep.npy");
        NpyFile.Write<float>(path, [1, 2, 3], [3]);
        byte[] before = File.ReadAllBytes(path);

        Assert.ThrowsAny<ArgumentException>(() => NpyFile.Write<float>(path, [1, 2], [3]));
        Assert.Equal(before, File.ReadAllBytes(path));

        // The move fails when the destination is a directory: the temporary file must be gone.
        string blocked = PathOf("blocked.npy");
        Directory.CreateDirectory(blocked);
        Assert.ThrowsAny<IOException>(() => NpyFile.Write<float>(blocked, [1], [1]));
        Assert.True(Directory.Exists(blocked));
        Assert.Equal([path], Directory.GetFiles(directory));

        // A missing directory fails before anything is written.
        Assert.Throws<DirectoryNotFoundException>(() => NpyFile.Write<float>(Path.Combine(directory, "absent", "x.npy"), [1], [1]));
        Assert.Equal([path], Directory.GetFiles(directory));
    }

    private void AssertRoundTrip<T>(int[] shape, Func<int, T> value, string descr)
        where T : unmanaged
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        T[] values = Enumerable.Range(0, count).Select(value).ToArray();
        string path = PathOf($"{descr[1..]}-{shape.Length}-{count}.npy");
        NpyFile.Write<T>(path, values, shape);

        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, headerLength % 64);
        Assert.Equal(headerLength + (count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()), bytes.Length);

        var array = NpyFile.Read(path);
        Assert.Equal(descr, array.Descr);
        Assert.Equal(shape, array.Shape.ToArray());
        Assert.Equal(count, array.Length);
        Assert.Equal(values, array.ToArray<T>());

        // The stream path agrees with the file path.
        var buffer = new MemoryStream();
        NpyFile.Write(buffer, array);
        Assert.Equal(bytes, buffer.ToArray());
    }

    private string PathOf(string name) => Path.Combine(directory, name);

    private static string ReadError(Stream stream) =>
        Assert.Throws<NpyFormatException>(() => NpyFile.Read(stream)).Message;

    private static string HeaderText(byte[] file) =>
        Encoding.Latin1.GetString(file, 10, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)));

    /// <summary>A raw .npy file with any header text: the length field counts the header as given (padded to 64 like NumPy unless <paramref name="pad"/> is false).</summary>
    private static byte[] Build(string header, byte[] data, byte major = 1, bool pad = true)
    {
        int prefix = major == 1 ? 10 : 12;
        string text = header;
        if (pad)
        {
            int length = header.Length + 1;
            text = header + new string(' ', 64 - ((prefix + length) % 64)) + "\n";
        }

        byte[] headerBytes = Encoding.Latin1.GetBytes(text);
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        if (major == 1)
        {
            bytes.Add((byte)headerBytes.Length);
            bytes.Add((byte)(headerBytes.Length >> 8));
        }
        else
        {
            bytes.AddRange(BitConverter.GetBytes((uint)headerBytes.Length));
        }

        bytes.AddRange(headerBytes);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static byte[] Patch(byte[] bytes, int offset, params byte[] values)
    {
        values.CopyTo(bytes, offset);
        return bytes;
    }

    /// <summary>A stream that can only be read forward, like a pipe.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        // Hand out a few bytes at a time, as a pipe may.
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
