using System.Text;
using IlgpuNorm.Cli;
using IlgpuNorm.Cli.Commands;
using IlgpuNorm.IO;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Cli;

public sealed class RunCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("cli-run-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Run_Float32_RoundTrip(string device) =>
        RoundTrip<float>(device, [3, 5, 64], [64], weight: true, groups: 1, extra: []);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Run_Float16_RoundTrip(string device) =>
        RoundTrip<Half>(device, [7, 96], [96], weight: true, groups: 4, extra: []);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Run_BFloat16_RoundTrip(string device) =>
        RoundTrip<BFloat16>(device, [4, 33], [33], weight: true, groups: 1, extra: ["--dtype", "bfloat16"]);

    [Theory]
    [InlineData("host")]
    [InlineData("cpu")]
    public void Run_Float64_RoundTrip(string device) =>
        RoundTrip<double>(device, [2, 3, 4, 5], [4, 5], weight: false, groups: 1, extra: ["--eps", "1e-3"]);

    [Fact]
    public void Run_ScalarBatch_AndDefaultDevice()
    {
        // A rank-1 input: one row. No --device: the environment variable or auto decides.
        RoundTrip<float>(null, [1000], [1000], weight: false, groups: 1, extra: []);
    }

    [Fact]
    public void Run_ReplacesAnExistingOutput_AndAcceptsBracketedShapes()
    {
        string input = Write<float>("x.npy", Data<float>(2 * 8, 1), [2, 8]);
        string output = Path.Combine(directory, "y.npy");
        File.WriteAllText(output, "old");
        var result = CliResult.Run("run", "--input", input, "--output", output, "--normalized-shape", "[8]", "--device", "host");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Equal([2, 8], NpyFile.Read(output).Shape.ToArray());
    }

    [Fact]
    public void Execute_CanBeCalledDirectly()
    {
        string input = Write<double>("x.npy", Data<double>(12, 2), [3, 4]);
        string output = Path.Combine(directory, "y.npy");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = RunCommand.Execute(new RunSettings(input, output, "4") { Device = "host" }, stdout, stderr);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("wrote", stdout.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    public static TheoryData<string, int, string[], string> BadInputs => new()
    {
        // name of the case, exit code, arguments after --input/--output (placeholders: {x} good f32 [2, 64] input, {w} good weight), expected text
        { "missing input file", 2, ["--input", "{dir}/absent.npy", "-n", "64"], "file not found" },
        { "missing weight file", 2, ["--input", "{x}", "-n", "64", "--weight", "{dir}/absent.npy"], "--weight: file not found" },
        { "bad magic", 2, ["--input", "{badmagic}", "-n", "64"], "Bad magic" },
        { "truncated header", 2, ["--input", "{truncated}", "-n", "64"], "Truncated header" },
        { "unparseable header", 2, ["--input", "{unparseable}", "-n", "64"], "Unparseable header" },
        { "fortran order", 2, ["--input", "{fortran}", "-n", "64"], "Fortran" },
        { "unsupported dtype", 2, ["--input", "{int32}", "-n", "64"], "Unsupported descr '<i4'" },
        { "big-endian dtype", 2, ["--input", "{bigendian}", "-n", "64"], "big-endian" },
        { "data too short", 2, ["--input", "{short}", "-n", "64"], "too short" },
        { "data too long", 2, ["--input", "{long}", "-n", "64"], "too long" },
        { "malformed weight", 2, ["--input", "{x}", "-n", "64", "--weight", "{badmagic}"], "--weight" },
        { "u2 without --dtype", 2, ["--input", "{u2}", "-n", "64"], "--dtype bfloat16" },
        { "--dtype bfloat16 on f4", 2, ["--input", "{x}", "-n", "64", "--dtype", "bfloat16"], "<u2" },
        { "unknown --dtype", 2, ["--input", "{x}", "-n", "64", "--dtype", "int8"], "--dtype" },
        { "weight dtype differs", 2, ["--input", "{x}", "-n", "64", "--weight", "{w16}"], "--weight: dtype <f2 differs from the input's <f4" },
        { "weight shape differs", 2, ["--input", "{x}", "-n", "64", "--weight", "{w63}"], "--weight: expected shape [64], got [63]" },
        { "weight rank differs", 2, ["--input", "{x}", "-n", "64", "--weight", "{w8x8}"], "--weight: expected shape [64], got [8, 8]" },
        { "normalized shape mismatch", 2, ["--input", "{x}", "-n", "63"], "--normalized-shape" },
        { "normalized rank too high", 2, ["--input", "{x}", "-n", "1,2,64"], "--normalized-shape" },
        { "normalized shape text", 2, ["--input", "{x}", "-n", "sixty-four"], "--normalized-shape" },
        { "normalized shape zero", 2, ["--input", "{x}", "-n", "0"], "--normalized-shape" },
        { "normalized shape empty part", 2, ["--input", "{x}", "-n", "2,,64"], "--normalized-shape" },
        { "normalized shape negative", 2, ["--input", "{x}", "-n", "-64"], "--normalized-shape" },
        { "eps text", 2, ["--input", "{x}", "-n", "64", "--eps", "tiny"], "--eps" },
        { "eps negative", 2, ["--input", "{x}", "-n", "64", "--eps", "-1e-6"], "--eps" },
        { "eps nan", 2, ["--input", "{x}", "-n", "64", "--eps", "NaN"], "--eps" },
        { "eps infinite", 2, ["--input", "{x}", "-n", "64", "--eps", "1e999"], "--eps" },
        { "groups text", 2, ["--input", "{x}", "-n", "64", "--num-groups", "four"], "--num-groups" },
        { "groups zero", 2, ["--input", "{x}", "-n", "64", "--num-groups", "0"], "--num-groups" },
        { "groups not dividing", 2, ["--input", "{x}", "-n", "64", "--num-groups", "3"], "--num-groups: 3 does not divide" },
        { "groups with two normalized dims", 2, ["--input", "{x}", "-n", "2,64", "--num-groups", "2"], "--num-groups" },
        { "unknown device", 2, ["--input", "{x}", "-n", "64", "--device", "tpu"], "--device" },
        { "bad device index", 2, ["--input", "{x}", "-n", "64", "--device", "cuda:x"], "--device" },
        { "absent device", 2, ["--input", "{x}", "-n", "64", "--device", "opencl:99"], "not available" },
        { "missing normalized shape", 2, ["--input", "{x}"], "--normalized-shape" },
        { "unknown option", 2, ["--input", "{x}", "-n", "64", "--frobnicate"], "--frobnicate" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Run_BadInput_FailsWithOneLine_AndWritesNothing(string name, int exitCode, string[] args, string expected)
    {
        var files = BadFiles();
        string[] resolved = [.. args.Select(a => files.Aggregate(a, (text, file) => text.Replace("{" + file.Key + "}", file.Value, StringComparison.Ordinal)))];

        // No output file before: none after.
        string output = Path.Combine(directory, "out.npy");
        var result = CliResult.Run(["run", "--output", output, .. resolved]);
        result.AssertError(exitCode, expected);
        Assert.False(File.Exists(output), name);

        // An existing output file: byte-identical after.
        byte[] previous = Encoding.ASCII.GetBytes("previous contents of " + name);
        File.WriteAllBytes(output, previous);
        result = CliResult.Run(["run", "--output", output, .. resolved]);
        result.AssertError(exitCode, expected);
        Assert.Equal(previous, File.ReadAllBytes(output));

        // Nothing else was left behind (no temporary files).
        Assert.Equal(files.Values.Where(File.Exists).Append(output).Order(StringComparer.Ordinal), Directory.GetFiles(directory).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Run_OutputDirectoryMissing_IsAUsageError()
    {
        string input = Write<float>("x.npy", Data<float>(64, 1), [1, 64]);
        string output = Path.Combine(directory, "absent", "y.npy");
        CliResult.Run("run", "-i", input, "-o", output, "-n", "64").AssertError(ExitCodes.Usage, "--output", "directory not found");
        Assert.False(Directory.Exists(Path.Combine(directory, "absent")));
    }

    [Fact]
    public void Run_OutputIsADirectory_IsARuntimeFailure_AndLeavesItAlone()
    {
        string input = Write<float>("x.npy", Data<float>(64, 1), [1, 64]);
        string output = Path.Combine(directory, "taken");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "keep");
        CliResult.Run("run", "-i", input, "-o", output, "-n", "64").AssertError(ExitCodes.Failure, "--output", "cannot write");
        Assert.Equal("keep", File.ReadAllText(Path.Combine(output, "keep.txt")));
        Assert.Equal([input], Directory.GetFiles(directory));
    }

    [Fact]
    public void NoCommand_AndUnknownCommand_AreUsageErrors()
    {
        CliResult.Run().AssertError(ExitCodes.Usage, "command");
        CliResult.Run("normalize").AssertError(ExitCodes.Usage, "normalize");
    }

    [Fact]
    public void Help_ExitsZero_AndNamesTheCommand()
    {
        var result = CliResult.Run("run", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ilgpunorm run", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--normalized-shape", result.Stdout, StringComparison.Ordinal);
    }

    private void RoundTrip<T>(string? device, int[] shape, int[] normalizedShape, bool weight, int groups, string[] extra)
        where T : unmanaged
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        int normalized = normalizedShape.Aggregate(1, (a, b) => a * b);
        T[] x = Data<T>(count, 7);
        T[] w = weight ? Data<T>(normalized, 8) : [];
        string input = Write<T>("x.npy", x, shape);
        string output = Path.Combine(directory, "y.npy");
        var args = new List<string> { "run", "--input", input, "--output", output, "--normalized-shape", string.Join(',', normalizedShape), "--num-groups", groups.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (weight)
        {
            args.AddRange(["--weight", Write<T>("w.npy", w, normalizedShape)]);
        }

        if (device is not null)
        {
            args.AddRange(["--device", device]);
        }

        args.AddRange(extra);
        var result = CliResult.Run([.. args]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Contains("wrote", result.Stdout, StringComparison.Ordinal);

        var y = NpyFile.Read(output);
        Assert.Equal(NpyArray.Create<T>([], [0]).Descr, y.Descr);
        Assert.Equal(shape, y.Shape.ToArray());
        T[] actual = y.ToArray<T>();
        double eps = extra.Contains("--eps") ? double.Parse(extra[Array.IndexOf(extra, "--eps") + 1], System.Globalization.CultureInfo.InvariantCulture) : RmsNormOptions.DefaultEpsilon;
        T[] expected = RmsNormReference.Compute<T>(x, shape, normalizedShape, w, eps, groups);
        T[] unweighted = weight ? RmsNormReference.Compute<T>(x, shape, normalizedShape, default, eps, groups) : expected;
        for (int i = 0; i < actual.Length; i++)
        {
            T? wi = weight ? w[i % w.Length] : null;
            Assert.True(
                Tolerance.Accepts(actual[i], expected[i], unweighted[i], wi),
                $"element {i}: got {Elements.ToDouble(actual[i])}, expected {Elements.ToDouble(expected[i])} ({Ulp.Distance(actual[i], expected[i])} ulp)");
        }
    }

    /// <summary>Malformed and mismatched inputs for the error cases, by placeholder name.</summary>
    private Dictionary<string, string> BadFiles()
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64), }";
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dir"] = directory,
            ["x"] = Write<float>("x.npy", Data<float>(128, 1), [2, 64]),
            ["w16"] = Write<Half>("w16.npy", Data<Half>(64, 2), [64]),
            ["w63"] = Write<float>("w63.npy", Data<float>(63, 3), [63]),
            ["w8x8"] = Write<float>("w8x8.npy", Data<float>(64, 3), [8, 8]),
            ["u2"] = Write<ushort>("u2.npy", new ushort[128], [2, 64]),
            ["badmagic"] = Raw("badmagic.npy", Encoding.ASCII.GetBytes("PK\u0003\u0004 this is a zip, not an npy file")),
            ["truncated"] = Raw("truncated.npy", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x76]),
            ["unparseable"] = Raw("unparseable.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64)", 512)),
            ["fortran"] = Raw("fortran.npy", Npy(header.Replace("False", "True", StringComparison.Ordinal), 512)),
            ["int32"] = Raw("int32.npy", Npy(header.Replace("<f4", "<i4", StringComparison.Ordinal), 512)),
            ["bigendian"] = Raw("bigendian.npy", Npy(header.Replace("<f4", ">f4", StringComparison.Ordinal), 512)),
            ["short"] = Raw("short.npy", Npy(header, 511)),
            ["long"] = Raw("long.npy", Npy(header, 516)),
        };
    }

    private string Write<T>(string name, T[] values, int[] shape)
        where T : unmanaged
    {
        string path = Path.Combine(directory, name);
        NpyFile.Write<T>(path, values, shape);
        return path;
    }

    private string Raw(string name, byte[] bytes)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Npy(string header, int dataBytes)
    {
        string padded = header + new string(' ', 64 - ((10 + header.Length + 1) % 64)) + "\n";
        byte[] text = Encoding.Latin1.GetBytes(padded);
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)text.Length, (byte)(text.Length >> 8), .. text, .. new byte[dataBytes]];
    }

    private static T[] Data<T>(int count, int seed)
        where T : unmanaged
    {
        var random = new Random(seed);
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = Elements.FromDouble<T>((random.NextDouble() * 6) - 3);
        }

        return values;
    }
}
