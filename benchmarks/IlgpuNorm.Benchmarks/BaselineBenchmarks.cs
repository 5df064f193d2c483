using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using IlgpuNorm.Benchmarking;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The host path against an earlier build of the library, in the same BenchmarkDotNet run and the same process: float32
/// and float16 forward with a weight, float32 backward with a weight. The earlier <c>IlgpuNorm.dll</c> is loaded into
/// its own <see cref="AssemblyLoadContext"/> from the folder named by <c>ILGPUNORM_BASELINE</c>; both builds are called
/// through their public <c>Compute</c> methods on the same buffers, with the device left to <c>ILGPUNORM_DEVICE=host</c>.
/// </summary>
/// <remarks>
/// <para>Run in process (<c>--inProcess</c>), so that both builds see the very same buffers: separate processes place the
/// arrays at other addresses, and a [16, 4096] backward moved by ±10% between launches of the same build. The buffers
/// are static, one set per shape, made on first use. One job: run once more with <c>DOTNET_EnableAVX512=0
/// DOTNET_EnableAVX512F=0</c> in the environment for the Vector256 paths.</para>
/// <para><c>git worktree add /tmp/before REV &amp;&amp; dotnet build -c Release /tmp/before/src/IlgpuNorm</c>, then
/// <c>ILGPUNORM_BASELINE=/tmp/before/src/IlgpuNorm/bin/Release/net10.0 dotnet run -c Release -- --filter '*Baseline*' --inProcess</c>.</para>
/// <para>DRAM-sized shapes rotate through buffer sets as <see cref="HostRmsNormBenchmarks"/> does.</para>
/// </remarks>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class BaselineBenchmarks
{
    /// <summary>The environment variable naming the folder of the earlier build.</summary>
    public const string BaselineVariable = "ILGPUNORM_BASELINE";

    private static readonly Dictionary<RmsNormShape, Buffers> Cache = [];
    private static Baseline? baseline;
    private int[] shape = [];
    private int[] normalizedShape = [];
    private Buffers data = null!;
    private int next;

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

    /// <summary>Loads the earlier build once, makes or finds this shape's buffers, and checks that both builds give the same bits.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (baseline is null)
        {
            string folder = Environment.GetEnvironmentVariable(BaselineVariable) ?? throw new InvalidOperationException(
                $"{BaselineVariable} is not set: expected the folder of an earlier IlgpuNorm.dll build (see docs/benchmarks.md).");
            Environment.SetEnvironmentVariable(DeviceRequest.EnvironmentVariable, "host");
            baseline = new Baseline(new BaselineContext(folder).LoadFromAssemblyName(new AssemblyName("IlgpuNorm")));
        }

        shape = [Shape.Rows, Shape.Columns];
        normalizedShape = [Shape.Columns];
        if (!Cache.TryGetValue(Shape, out var found))
        {
            found = new Buffers(Shape);
            Cache[Shape] = found;
            data = found;
            Same("forward float32", ForwardSingle, BaselineForward, () => Bytes(data.Y[0]));
            Same("forward float16", ForwardHalf, BaselineForwardHalf, () => Bytes(data.Yh[0]));
            Same("backward float32", Backward, BaselineBackward, () => [.. Bytes(data.Dx), .. Bytes(data.Dw)]);
        }

        data = found;
        next = 0;
    }

    /// <summary>The earlier build, float32 forward.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("forward-f32")]
    public void BaselineForward()
    {
        int s = Next(data.X.Length);
        baseline!.Forward(data.X[s], shape, normalizedShape, data.W, data.Y[s]);
    }

    /// <summary>This build, float32 forward.</summary>
    [Benchmark]
    [BenchmarkCategory("forward-f32")]
    public void ForwardSingle()
    {
        int s = Next(data.X.Length);
        RmsNorm.Compute<float>(data.X[s], shape, normalizedShape, data.W, data.Y[s]);
    }

    /// <summary>The earlier build, float16 forward.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("forward-f16")]
    public void BaselineForwardHalf()
    {
        int s = Next(data.Xh.Length);
        baseline!.ForwardHalf(data.Xh[s], shape, normalizedShape, data.Wh, data.Yh[s]);
    }

    /// <summary>This build, float16 forward.</summary>
    [Benchmark]
    [BenchmarkCategory("forward-f16")]
    public void ForwardHalf()
    {
        int s = Next(data.Xh.Length);
        RmsNorm.Compute<Half>(data.Xh[s], shape, normalizedShape, data.Wh, data.Yh[s]);
    }

    /// <summary>The earlier build, float32 backward (rstd recomputed).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("backward-f32")]
    public void BaselineBackward() => baseline!.Backward(data.Dy, data.X[0], shape, normalizedShape, data.W, data.Dx, data.Dw);

    /// <summary>This build, float32 backward (rstd recomputed).</summary>
    [Benchmark]
    [BenchmarkCategory("backward-f32")]
    public void Backward() => RmsNormBackward.Compute<float>(data.Dy, data.X[0], shape, normalizedShape, data.W, data.Dx, data.Dw);

    /// <summary>
    /// Paired rounds instead of BenchmarkDotNet's blocks: each round times a batch of the earlier build's calls, then the
    /// same batch of this build's (the order swapped every round), and the ratio of the two is one sample. A block of
    /// minutes per method sees the VM's memory bandwidth drift between the two blocks (±10% at DRAM shapes here); a pair
    /// of batches milliseconds apart sees the same machine. Prints the median ratio and its quartiles per case.
    /// </summary>
    /// <param name="rounds">Paired rounds per case.</param>
    /// <param name="output">Where the table goes.</param>
    public static void Interleaved(int rounds, TextWriter output)
    {
        var cases = new (string Name, Func<BaselineBenchmarks, Action> Earlier, Func<BaselineBenchmarks, Action> Current)[]
        {
            ("forward float32", b => b.BaselineForward, b => b.ForwardSingle),
            ("forward float16", b => b.BaselineForwardHalf, b => b.ForwardHalf),
            ("backward float32", b => b.BaselineBackward, b => b.Backward),
        };
        output.WriteLine($"| operation | shape | earlier (µs) | now (µs) | ratio now / earlier: median | quartiles |");
        output.WriteLine("|---|---|---:|---:|---:|---|");
        foreach (var shape in Shapes)
        {
            var bench = new BaselineBenchmarks { Shape = shape };
            bench.Setup();
            foreach (var (name, earlierOf, currentOf) in cases)
            {
                Action earlier = earlierOf(bench), current = currentOf(bench);
                // A batch of ~1 ms or more, a whole number of turns through the buffer sets: both builds then read the same sets
                // (one call each per round went to alternate sets, whose pages sit differently: an 18% "difference").
                int sets = bench.data.X.Length, batch = (Math.Max(1, (int)(2_000_000 / shape.Elements)) + sets - 1) / sets * sets;
                List<double> ratios = [], a = [], c = [];

                // Warm-up: both builds' tiered code must reach tier 1 (call counting starts 100 ms after the last new method).
                for (var warm = System.Diagnostics.Stopwatch.StartNew(); warm.ElapsedMilliseconds < 1000;)
                {
                    Time(earlier, batch);
                    Time(current, batch);
                }

                for (int r = 0; r < rounds; r++)
                {
                    // Each build first in every other round.
                    double first = Time(r % 2 == 0 ? earlier : current, batch), second = Time(r % 2 == 0 ? current : earlier, batch);
                    var (earlierTime, currentTime) = r % 2 == 0 ? (first, second) : (second, first);
                    a.Add(earlierTime);
                    c.Add(currentTime);
                    ratios.Add(currentTime / earlierTime);
                }

                // Timing.Median sorts the list, so the quartiles are read from it afterwards.
                double median = Timing.Median(ratios);
                output.WriteLine($"| {name} | {shape} | {Timing.Median(a):F2} | {Timing.Median(c):F2} | {median:F3} | {ratios[rounds / 4]:F3}-{ratios[3 * rounds / 4]:F3} |");
            }
        }

        static double Time(Action call, int batch)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < batch; i++)
            {
                call();
            }

            return clock.Elapsed.TotalMicroseconds / batch;
        }
    }

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

    /// <summary>Median and GB/s, times in microseconds; the command line's job only (see the remarks).</summary>
    public sealed class Config : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public Config()
        {
            AddColumn(new WorkingSetColumn(), StatisticColumn.Median, new BandwidthColumn());
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
        }
    }

    /// <summary>One shape's inputs (buffer sets for DRAM-sized shapes) and outputs, filled with seeded random data.</summary>
    private sealed class Buffers
    {
        public Buffers(RmsNormShape shape)
        {
            int n = shape.Elements;
            var random = new Random(BenchmarkData.Seed);
            int sets = BenchmarkData.BufferSets(2L * n * sizeof(float));
            X = Filled<float>(sets, n, random, v => v);
            Y = Filled<float>(sets, n, null, v => v);
            Xh = Filled(sets, n, random, v => (Half)v);
            Yh = Filled<Half>(sets, n, null, v => (Half)v);
            W = Filled<float>(1, shape.Columns, random, v => v)[0];
            Wh = Filled(1, shape.Columns, random, v => (Half)v)[0];
            Dy = Filled<float>(1, n, random, v => v)[0];
            Dx = new float[n];
            Dw = new float[shape.Columns];
        }

        public float[][] X { get; }

        public float[][] Y { get; }

        public Half[][] Xh { get; }

        public Half[][] Yh { get; }

        public float[] W { get; }

        public Half[] Wh { get; }

        public float[] Dy { get; }

        public float[] Dx { get; }

        public float[] Dw { get; }
    }

    /// <summary>The earlier build's entry points.</summary>
    private sealed class Baseline(Assembly assembly)
    {
        public ForwardCall<float> Forward { get; } = Bind<ForwardCall<float>>(assembly, "RmsNorm", typeof(float));

        public ForwardCall<Half> ForwardHalf { get; } = Bind<ForwardCall<Half>>(assembly, "RmsNorm", typeof(Half));

        public BackwardCall<float> Backward { get; } = Bind<BackwardCall<float>>(assembly, "RmsNormBackward", typeof(float));
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
