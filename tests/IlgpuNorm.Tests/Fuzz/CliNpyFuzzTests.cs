using System.Buffers.Binary;
using System.Globalization;
using CsCheck;
using IlgpuNorm.Cli;
using IlgpuNorm.IO;
using IlgpuNorm.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// The <c>run</c> command on .npy files built from the same generators as the reference fuzzing, first intact (exit 0,
/// an output file), then broken in one way (truncated, wrong header length, shape not matching the data, unsupported
/// dtype, bad magic, bad version), in the input or in the weight: exit code 2, exactly one <c>error:</c> line, no
/// output file, nothing left behind.
/// </summary>
public sealed class CliNpyFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Descrs = ["<f4", "<f2", "<f8"];

    private static readonly string[] Unsupported = ["<i4", "<i8", "|u1", "|b1", "<c8", "<c16", ">f4", ">f8", ">f2", "|O", "<U8", "<M8[D]", "|V8", "<u4", "<i2", "|i1"];

    public enum Fault
    {
        Truncated,
        HeaderLength,
        ShapeMismatch,
        UnsupportedDtype,
        BadMagic,
        BadVersion,
    }

    /// <summary>One broken file: what is broken, where, and how.</summary>
    public sealed record Mutation(Fault Fault, bool InWeight, int Position, int Delta, string Descr, byte Major, byte Minor)
    {
        public override string ToString() =>
            $"{Fault} in the {(InWeight ? "weight" : "input")} (position {Position}, delta {Delta}, descr {Descr}, version {Major}.{Minor})";
    }

    private static readonly Gen<Mutation> Mutations =
        from fault in Gen.Enum<Fault>()
        from inWeight in Gen.Int[0, 3]
        from position in Gen.Int[0, 100_000]
        from delta in Gen.Int[1, 300]
        from descr in Gen.OneOf(Unsupported)
        from major in Gen.OneOf<byte>(0, 1, 2, 3, 4, 9, 255)
        from minor in Gen.OneOf<byte>(0, 1, 5, 255)
        select new Mutation(fault, inWeight == 0, position, delta, descr, major, minor);

    private static readonly Gen<(FuzzCase Case, string Descr, Mutation Mutation)> Cases =
        Gen.Select(FuzzGen.Case(maxBatch: 6, maxNormalized: 65), Gen.OneOf(Descrs), Mutations)
            .Select((c, d, m) => (c, d, m.InWeight && c.W.Length == 0 ? m with { InWeight = false } : m));

    [Fact]
    public void RunCommand_OnIntactAndBrokenNpyFiles_SucceedsOrFailsCleanly()
    {
        var counts = new Dictionary<Fault, int>();
        int ran = FuzzRun.Cases("cli npy", Cases, 200, item =>
        {
            lock (counts)
            {
                counts[item.Mutation.Fault] = counts.GetValueOrDefault(item.Mutation.Fault) + 1;
            }

            Check(item.Case, item.Descr, item.Mutation);
        },
        item => $"{item.Descr} {item.Case} with {item.Mutation}");
        output.WriteLine($"{ran} .npy cases, each intact then broken: {string.Join(", ", counts.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}");
        Assert.Equal(ran, counts.Values.Sum());
    }

    private static void Check(FuzzCase c, string descr, Mutation mutation)
    {
        string directory = Directory.CreateTempSubdirectory("cli-fuzz-").FullName;
        try
        {
            string input = Path.Combine(directory, "x.npy");
            string weight = Path.Combine(directory, "w.npy");
            string outputPath = Path.Combine(directory, "y.npy");
            byte[] inputBytes = Encode(descr, c.Shape, c.X);
            byte[] weightBytes = Encode(descr, c.NormalizedShape, c.W);
            var args = new List<string>
            {
                "run", "--input", input, "--output", outputPath, "--normalized-shape", string.Join(',', c.NormalizedShape),
                "--eps", c.Epsilon.ToString("R", CultureInfo.InvariantCulture), "--num-groups", c.NumGroups.ToString(CultureInfo.InvariantCulture),
                "--device", "host",
            };
            if (c.W.Length > 0)
            {
                args.AddRange(["--weight", weight]);
            }

            // Intact: the baseline must work, or the broken cases would prove nothing.
            File.WriteAllBytes(input, inputBytes);
            File.WriteAllBytes(weight, weightBytes);
            var result = CliResult.Run([.. args]);
            Assert.True(result.ExitCode == ExitCodes.Success, $"the intact files failed: {result.Stderr}");
            Assert.Equal(c.Shape, NpyFile.Read(outputPath).Shape.ToArray());
            File.Delete(outputPath);

            // Broken.
            if (mutation.InWeight)
            {
                File.WriteAllBytes(weight, Break(weightBytes, descr, c.NormalizedShape, mutation));
            }
            else
            {
                File.WriteAllBytes(input, Break(inputBytes, descr, c.Shape, mutation));
            }

            result = CliResult.Run([.. args]);
            result.AssertError(ExitCodes.Usage, mutation.InWeight ? ["--weight"] : []);
            Assert.False(File.Exists(outputPath), "an output file was written");
            Assert.Equal(2, Directory.GetFiles(directory).Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static byte[] Encode(string descr, int[] shape, double[] values)
    {
        byte[] header = NpyFile.EncodeHeader(descr, shape);
        int size = descr == "<f2" ? 2 : descr == "<f4" ? 4 : 8;
        byte[] bytes = new byte[header.Length + (values.Length * size)];
        header.CopyTo(bytes, 0);
        var data = bytes.AsSpan(header.Length);
        for (int i = 0; i < values.Length; i++)
        {
            switch (size)
            {
                case 2: BinaryPrimitives.WriteHalfLittleEndian(data[(i * 2)..], (Half)values[i]); break;
                case 4: BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], (float)values[i]); break;
                default: BinaryPrimitives.WriteDoubleLittleEndian(data[(i * 8)..], values[i]); break;
            }
        }

        return bytes;
    }

    private static byte[] Break(byte[] file, string descr, int[] shape, Mutation m)
    {
        byte[] header = NpyFile.EncodeHeader(descr, shape);
        byte[] data = file[header.Length..];
        switch (m.Fault)
        {
            case Fault.Truncated:
                return file[..(m.Position % file.Length)];
            case Fault.HeaderLength:
            {
                byte[] broken = (byte[])file.Clone();
                int length = BinaryPrimitives.ReadUInt16LittleEndian(broken.AsSpan(8));
                int changed = m.Position % 2 == 0 ? length + m.Delta : Math.Max(0, length - m.Delta);
                BinaryPrimitives.WriteUInt16LittleEndian(broken.AsSpan(8), (ushort)changed);
                return broken;
            }

            case Fault.ShapeMismatch:
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                int[] other = m.Position % 2 == 0 || count == 0 ? [(int)count + m.Delta] : [.. shape[..^1], shape[^1] + m.Delta];
                return [.. NpyFile.EncodeHeader(descr, other), .. data];
            }

            case Fault.UnsupportedDtype:
                return [.. NpyFile.EncodeHeader(m.Descr, shape), .. data];
            case Fault.BadMagic:
            {
                byte[] broken = (byte[])file.Clone();
                broken[m.Position % 6] ^= (byte)(1 + (m.Delta % 255));
                return broken;
            }

            default:
            {
                byte[] broken = (byte[])file.Clone();
                (broken[6], broken[7]) = (m.Major, m.Minor) is (1, 0) or (2, 0) ? ((byte)3, (byte)0) : (m.Major, m.Minor);
                return broken;
            }
        }
    }
}
