using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The host path against an earlier build of the library, in the same BenchmarkDotNet run: float32 and float16 forward
/// with a weight, float32 backward with a weight. The earlier <c>IlgpuNorm.dll</c> is loaded into its own
/// <see cref="AssemblyLoadContext"/> from the folder named by <c>ILGPUNORM_BASELINE</c>; both are called through their
/// public <c>Compute</c> methods on the same buffers, with the device left to <c>ILGPUNORM_DEVICE=host</c>.
/// </summary>
/// <remarks>
/// <para>Run: build the earlier commit (<c>git worktree add /tmp/before REV &amp;&amp; dotnet build -c Release /tmp/before/src/IlgpuNorm</c>),
/// then <c>ILGPUNORM_BASELINE=/tmp/before/src/IlgpuNorm/bin/Release/net10.0 dotnet run -c Release -- --filter '*Baseline*'</c>.</para>
/// <para>DRAM-sized shapes rotate through buffer sets as <see cref="HostRmsNormBenchmarks"/> does.</para>
/// </remarks>
[Config(typeof(HostBenchmarkConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class BaselineBenchmarks
{
    /// <summary>The environment variable naming the folder of the earlier build.</summary>
    public const string BaselineVariable = "ILGPUNORM_BASELINE";

    private int[] shape = [];
    private int[] normalizedShape = [];
    private float[][] x = [], y = [];
    private Half[][] xh = [], yh = [];
    private float[] w = [], dy = [], dx = [], dw = [];
    private Half[] wh = [];
    private int next;
    private ForwardCall<float> baselineForward = null!;
    private ForwardCall<Half> baselineForwardHalf = null!;
    private BackwardCall<float> baselineBackward = null!;

    /// <summary>The public forward entry point without options.</summary>
    public delegate void ForwardCall<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, Span<T> destination);

    /// <summary>The public backward entry point without saved rstd or options.</summary>
    public delegate void BackwardCall<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, Span<T> dx, Span<T> dweight);

    /// <summary>[rows, normalized length].</summary>
    public static IEnumerable<RmsNormShape> Shapes { get; } =
        [new(1, 4096), new(16, 4096), new(4096, 4096), new(1024, 8192)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(16, 4096);

    /// <summary>Loads the earlier build, fills the buffers and checks that both builds give the same bits.</summary>
    [GlobalSetup]
    public void Setup()
    {
        string folder = Environment.GetEnvironmentVariable(BaselineVariable) ?? throw new InvalidOperationException(
            $"{BaselineVariable} is not set: expected the folder of an earlier IlgpuNorm.dll build (see docs/benchmarks.md).");
        Environment.SetEnvironmentVariable(DeviceRequest.EnvironmentVariable, "host");
        var assembly = new BaselineContext(folder).LoadFromAssemblyName(new AssemblyName("IlgpuNorm"));
        baselineForward = Bind<ForwardCall<float>>(assembly, "RmsNorm", typeof(float));
        baselineForwardHalf = Bind<ForwardCall<Half>>(assembly, "RmsNorm", typeof(Half));
        baselineBackward = Bind<BackwardCall<float>>(assembly, "RmsNormBackward", typeof(float));

        int n = Shape.Elements;
        shape = [Shape.Rows, Shape.Columns];
        normalizedShape = [Shape.Columns];
        var random = new Random(BenchmarkData.Seed);
        int sets = BenchmarkData.BufferSets(2L * n * sizeof(float));
        x = Filled<float>(sets, n, random, v => v);
        y = Filled<float>(sets, n, null, v => v);
        xh = Filled(sets, n, random, v => (Half)v);
        yh = Filled<Half>(sets, n, null, v => (Half)v);
        w = Filled<float>(1, Shape.Columns, random, v => v)[0];
        wh = Filled(1, Shape.Columns, random, v => (Half)v)[0];
        dy = Filled<float>(1, n, random, v => v)[0];
        dx = new float[n];
        dw = new float[Shape.Columns];

        Same("forward float32", () => ForwardSingle(), () => BaselineForward(), () => Bytes(y[0]));
        Same("forward float16", () => ForwardHalf(), () => BaselineForwardHalf(), () => Bytes(yh[0]));
        Same("backward float32", () => Backward(), () => BaselineBackward(), () => [.. Bytes(dx), .. Bytes(dw)]);
        next = 0;
    }

    /// <summary>The earlier build, float32 forward.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("forward-f32")]
    public void BaselineForward()
    {
        int s = Next(x.Length);
        baselineForward(x[s], shape, normalizedShape, w, y[s]);
    }

    /// <summary>This build, float32 forward.</summary>
    [Benchmark]
    [BenchmarkCategory("forward-f32")]
    public void ForwardSingle()
    {
        int s = Next(x.Length);
        RmsNorm.Compute<float>(x[s], shape, normalizedShape, w, y[s]);
    }

    /// <summary>The earlier build, float16 forward.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("forward-f16")]
    public void BaselineForwardHalf()
    {
        int s = Next(xh.Length);
        baselineForwardHalf(xh[s], shape, normalizedShape, wh, yh[s]);
    }

    /// <summary>This build, float16 forward.</summary>
    [Benchmark]
    [BenchmarkCategory("forward-f16")]
    public void ForwardHalf()
    {
        int s = Next(xh.Length);
        RmsNorm.Compute<Half>(xh[s], shape, normalizedShape, wh, yh[s]);
    }

    /// <summary>The earlier build, float32 backward (rstd recomputed).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("backward-f32")]
    public void BaselineBackward() => baselineBackward(dy, x[0], shape, normalizedShape, w, dx, dw);

    /// <summary>This build, float32 backward (rstd recomputed).</summary>
    [Benchmark]
    [BenchmarkCategory("backward-f32")]
    public void Backward() => RmsNormBackward.Compute<float>(dy, x[0], shape, normalizedShape, w, dx, dw);

    /// <summary>
    /// A delegate over the earlier build's public <c>Compute&lt;T&gt;</c> whose span parameters match
    /// <typeparamref name="TDelegate"/>'s, the trailing optional ones passed as their defaults (IL: spans cannot go
    /// through reflection's Invoke).
    /// </summary>
    private static TDelegate Bind<TDelegate>(Assembly assembly, string type, Type element)
        where TDelegate : Delegate
    {
        var invoke = typeof(TDelegate).GetMethod("Invoke")!;
        var given = invoke.GetParameters().Select(p => p.ParameterType).ToArray();
        var target = assembly.GetType($"IlgpuNorm.{type}", throwOnError: true)!.GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.Name == "Compute" && m.IsGenericMethodDefinition && m.ReturnType == typeof(void))
            .Select(m => m.MakeGenericMethod(element))
            .Single(m => m.GetParameters().Take(given.Length).Select(p => p.ParameterType).SequenceEqual(given));
        var method = new DynamicMethod($"Baseline{type}", typeof(void), given, typeof(BaselineBenchmarks).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        for (short i = 0; i < given.Length; i++)
        {
            il.Emit(OpCodes.Ldarg, i);
        }

        foreach (var rest in target.GetParameters().Skip(given.Length))
        {
            var local = il.DeclareLocal(rest.ParameterType);
            il.Emit(OpCodes.Ldloca, local);
            il.Emit(OpCodes.Initobj, rest.ParameterType); // default(ReadOnlySpan<float>), null options
            il.Emit(OpCodes.Ldloc, local);
        }

        il.Emit(OpCodes.Call, target);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<TDelegate>();
    }

    private static T[][] Filled<T>(int sets, int n, Random? random, Func<float, T> convert)
    {
        var arrays = new T[sets][];
        for (int s = 0; s < sets; s++)
        {
            arrays[s] = new T[n];
            for (int i = 0; i < n; i++)
            {
                arrays[s][i] = convert(random is null ? float.NaN : 0.25f + (2f * random.NextSingle()));
            }
        }

        return arrays;
    }

    private static byte[] Bytes<T>(T[] values)
        where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static void Same(string what, Action current, Action baseline, Func<byte[]> result)
    {
        current();
        var expected = result();
        baseline();
        if (!expected.AsSpan().SequenceEqual(result()))
        {
            throw new InvalidOperationException($"{what}: this build and the baseline give different bits");
        }
    }

    private int Next(int sets)
    {
        int s = next;
        next = (next + 1) % sets;
        return s;
    }

    private sealed class BaselineContext(string folder) : AssemblyLoadContext("IlgpuNorm baseline")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(folder, name.Name + ".dll");
            return name.Name == "IlgpuNorm" && File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
