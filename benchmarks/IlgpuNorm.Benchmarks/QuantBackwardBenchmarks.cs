using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The quantized rms_norm and the backward pass on the host (float32), each against a copy of the bytes it moves (the
/// memory ceiling).
/// </summary>
/// <remarks>
/// <para>Traffic per call: the quantized norm reads x (4 bytes per element) and writes one code byte per element;
/// CopyQuantBytes copies 2.5 bytes per element (reads and writes 5 in all). The backward pass reads x and dy and writes dx
/// (12 bytes per element); CopyBackwardBytes copies 6 bytes per element. Shapes: a small batch (16x4096, cache-hot) and a
/// 64 MiB prefill (4096x4096).</para>
/// <para>Run: <c>dotnet run -c Release -- --filter '*QuantBackward*'</c> (or <c>--job dry</c> for a smoke run).</para>
/// </remarks>
[Config(typeof(Config))]
public class QuantBackwardBenchmarks
{
    private readonly RmsNormOptions host = new() { Device = DeviceRequest.Host };
    private readonly QuantizeOptions int8 = new() { Format = QuantizeFormat.Int8 };
    private readonly QuantizeOptions fp8 = new() { Format = QuantizeFormat.Float8E4M3 };
    private float[] x = [];
    private float[] dy = [];
    private float[] w = [];
    private float[] dx = [];
    private float[] dw = [];
    private byte[] codes = [];
    private float[] scales = [];
    private byte[] copySource = [];
    private byte[] copyTarget = [];

    /// <summary>[rows, hidden].</summary>
    public static IEnumerable<RmsNormShape> Shapes { get; } = [new(16, 4096), new(4096, 4096)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(16, 4096);

    /// <summary>Fills the buffers with seeded random data and runs each method once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(BenchmarkData.Seed);
        int n = Shape.Elements;
        x = new float[n];
        dy = new float[n];
        w = new float[Shape.Columns];
        BenchmarkData.Fill(x, random, 0.25f, 2.25f);
        BenchmarkData.Fill(dy, random, 0.25f, 2.25f);
        BenchmarkData.Fill(w, random, 0.5f, 1.5f);
        dx = new float[n];
        dw = new float[Shape.Columns];
        codes = new byte[n];
        scales = new float[Shape.Rows];
        copySource = new byte[6L * n];
        copyTarget = new byte[6L * n];
        random.NextBytes(copySource);
        QuantizeInt8();
        QuantizeFp8();
        Backward();
        if (scales.Any(s => !(s > 0)) || !float.IsFinite(dw[0]))
        {
            throw new InvalidOperationException("the warm-up run produced no result");
        }
    }

    /// <summary>Copies 2.5 bytes per element: the traffic of the quantized norm.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("quantize")]
    public void CopyQuantBytes()
    {
        int bytes = (int)(2.5 * Shape.Elements);
        copySource.AsSpan(0, bytes).CopyTo(copyTarget);
    }

    /// <summary>rms_norm to int8 with dynamic per-token scales.</summary>
    [Benchmark]
    [BenchmarkCategory("quantize")]
    public void QuantizeInt8() =>
        RmsNormQuantized.Compute<float>(x, [Shape.Rows, Shape.Columns], [Shape.Columns], w, codes, scales, int8, host);

    /// <summary>rms_norm to FP8 E4M3 with dynamic per-token scales.</summary>
    [Benchmark]
    [BenchmarkCategory("quantize")]
    public void QuantizeFp8() =>
        RmsNormQuantized.Compute<float>(x, [Shape.Rows, Shape.Columns], [Shape.Columns], w, codes, scales, fp8, host);

    /// <summary>Copies 6 bytes per element: the traffic of the backward pass.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("backward")]
    public void CopyBackwardBytes()
    {
        int bytes = 6 * Shape.Elements;
        copySource.AsSpan(0, bytes).CopyTo(copyTarget);
    }

    /// <summary>dx and dweight, recomputing 1/rms.</summary>
    [Benchmark]
    [BenchmarkCategory("backward")]
    public void Backward() =>
        RmsNormBackward.Compute<float>(dy, x, [Shape.Rows, Shape.Columns], [Shape.Columns], w, dx, dw, default, host);

    /// <summary>Median and allocations; categories keep each operation next to its copy.</summary>
    public sealed class Config : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public Config()
        {
            AddColumn(StatisticColumn.Median);
            AddDiagnoser(MemoryDiagnoser.Default);
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        }
    }
}
