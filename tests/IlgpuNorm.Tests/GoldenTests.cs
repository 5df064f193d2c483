using System.Text.Json;
using IlgpuNorm.IO;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// NumPy-made golden files (Data/golden, see its README): our numerics against an implementation that is not ours, on
/// every backend present (host, the ILGPU CPU accelerator, OpenCL and CUDA when found), and our .npy writer against NumPy's bytes.
/// </summary>
public sealed class GoldenTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Data", "golden");

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly Lazy<Dictionary<string, GoldenCase>> Cases = new(() =>
    {
        using var stream = File.OpenRead(Path.Combine(Folder, "cases.json"));
        var file = JsonSerializer.Deserialize<GoldenFile>(stream, Json)
            ?? throw new InvalidDataException("cases.json is empty.");
        return file.Cases.ToDictionary(c => c.Name, StringComparer.Ordinal);
    });

    public static TheoryData<string, string> CasesOnBackends()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in Cases.Value.Keys)
        {
            foreach (string backend in Support.Backends.Names)
            {
                data.Add(name, backend);
            }
        }

        return data;
    }

    public static TheoryData<string> NpyFiles()
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Folder, "*.npy").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void CasesJson_ListsEveryCaseAndItsFiles()
    {
        Assert.Equal(7, Cases.Value.Count);
        Assert.Equal(["bfloat16", "f16", "f32", "f64"], Cases.Value.Values.Select(c => c.Dtype).Distinct().Order(StringComparer.Ordinal));
        foreach (var c in Cases.Value.Values)
        {
            Assert.True(File.Exists(PathOf(c, "x")), c.Name);
            Assert.True(File.Exists(PathOf(c, "y")), c.Name);
            Assert.Equal(c.Weight, File.Exists(PathOf(c, "w")));
        }
    }

    [Theory]
    [MemberData(nameof(CasesOnBackends))]
    public void RmsNorm_MatchesNumPyGolden(string name, string backend)
    {
        var c = Cases.Value[name];
        var device = DeviceRequest.Parse(backend);
        switch (c.Dtype)
        {
            case "f32":
                Check<float>(c, device, "<f4", maxUlp: 4);
                break;
            case "f16":
                Check<Half>(c, device, "<f2", maxUlp: 1);
                break;
            case "bfloat16":
                Check<BFloat16>(c, device, "<u2", maxUlp: 1);
                break;
            case "f64":
                Check<double>(c, device, "<f8", maxUlp: 4);
                break;
            default:
                Assert.Fail($"Unknown dtype '{c.Dtype}' in case {c.Name}.");
                break;
        }
    }

    [Theory]
    [MemberData(nameof(NpyFiles))]
    public void Writer_ReproducesNumPysBytes(string file)
    {
        // NumPy 1.24 writes version 1.0, keys sorted, "'shape': (...), }", 21 - len(str(shape[0])) spaces of growth
        // room, then spaces and a newline to a multiple of 64 bytes: our writer makes exactly the same file.
        string path = Path.Combine(Folder, file);
        byte[] numpy = File.ReadAllBytes(path);
        var array = NpyFile.Read(path);

        string directory = Directory.CreateTempSubdirectory("golden-write-").FullName;
        try
        {
            string copy = Path.Combine(directory, file);
            NpyFile.Write(copy, array);
            Assert.Equal(numpy, File.ReadAllBytes(copy));

            // The typed writer agrees too.
            string typed = Path.Combine(directory, "typed-" + file);
            switch (array.Descr)
            {
                case "<f4":
                    NpyFile.Write<float>(typed, array.ToArray<float>(), array.Shape);
                    break;
                case "<f2":
                    NpyFile.Write<Half>(typed, array.ToArray<Half>(), array.Shape);
                    break;
                case "<f8":
                    NpyFile.Write<double>(typed, array.ToArray<double>(), array.Shape);
                    break;
                default:
                    NpyFile.Write<BFloat16>(typed, array.ToArray<BFloat16>(), array.Shape);
                    break;
            }

            Assert.Equal(numpy, File.ReadAllBytes(typed));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Check<T>(GoldenCase c, DeviceRequest device, string descr, long maxUlp)
        where T : unmanaged
    {
        var x = NpyFile.Read(PathOf(c, "x"));
        var y = NpyFile.Read(PathOf(c, "y"));
        Assert.Equal(descr, x.Descr);
        Assert.Equal(descr, y.Descr);
        Assert.Equal(x.Shape.ToArray(), y.Shape.ToArray());
        T[] weight = [];
        if (c.Weight)
        {
            var w = NpyFile.Read(PathOf(c, "w"));
            Assert.Equal(descr, w.Descr);
            Assert.Equal(c.NormalizedShape, w.Shape.ToArray());
            weight = w.ToArray<T>();
        }

        T[] input = x.ToArray<T>();
        T[] expected = y.ToArray<T>();
        var options = new RmsNormOptions { Device = device, Epsilon = c.Eps, NumGroups = c.NumGroups };
        T[] actual = RmsNorm.Compute<T>(input, x.Shape, c.NormalizedShape, weight, options);

        long worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            long ulp = Ulp.Distance(actual[i], expected[i]);
            if (ulp > worst)
            {
                (worst, worstIndex) = (ulp, i);
            }
        }

        Assert.True(
            worst <= maxUlp,
            worstIndex < 0
                ? string.Empty
                : $"{c.Name} on {device}: element {worstIndex} (of shape {x.FormatShape()}): got {Elements.ToDouble(actual[worstIndex]):R}, " +
                  $"NumPy {Elements.ToDouble(expected[worstIndex]):R}, {worst} ulp > {maxUlp}");
    }

    private static string PathOf(GoldenCase c, string part) => Path.Combine(Folder, $"{c.Name}.{part}.npy");

    private sealed record GoldenFile(List<GoldenCase> Cases);

    private sealed record GoldenCase(string Name, string Dtype, int[] NormalizedShape, int NumGroups, double Eps, bool Weight);
}
