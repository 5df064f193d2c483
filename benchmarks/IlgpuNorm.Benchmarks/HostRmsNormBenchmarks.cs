using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using IlgpuNorm.Benchmarking;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// float32 rms_norm on the host, end to end through the public API, against a same-size copy (the memory
/// ceiling), a plain scalar loop (the baseline) and the textbook TensorPrimitives formula.
/// </summary>
/// <remarks>
/// <para>Buffers are 64-byte aligned native memory, filled with seeded random data in [GlobalSetup]. Shapes
/// whose x and y exceed half the last-level cache rotate through several buffer sets totalling at least
/// max(512 MiB, 4x LLC), so every call reads x from DRAM; smaller shapes are measured cache-hot
/// (<see cref="BenchmarkData.BufferSets"/>, shown in the <c>Working set</c> column).</para>
/// <para>Threads: IlgpuNormHost splits inputs of 65536 elements or more over the thread pool; Copy,
/// NaiveScalar and TensorPrimitivesFormula are single-threaded.</para>
/// </remarks>
[Config(typeof(HostBenchmarkConfig))]
public unsafe class HostRmsNormBenchmarks : IDisposable
{
    private readonly RmsNormOptions hostOptions = new() { Device = DeviceRequest.Host };
    private int[] shape = [];
    private int[] normalizedShape = [];
    private int rows;
    private int columns;
    private float* weight;
    private float*[] inputs = [];
    private float*[] outputs = [];
    private int next;
    private OnnxRmsNorm? onnx;

    /// <summary>[rows, normalized length]: one decode token, a small batch, a 64 MiB prefill, a wide model.</summary>
    public static IEnumerable<RmsNormShape> Shapes { get; } =
        [new(1, 4096), new(16, 4096), new(4096, 4096), new(1024, 8192)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(16, 4096);

    private int Length => rows * columns;

    /// <summary>Allocates and fills every buffer, checks each implementation once against float64, and warms up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (rows, columns) = (Shape.Rows, Shape.Columns);
        shape = [rows, columns];
        normalizedShape = [columns];
        var random = new Random(BenchmarkData.Seed);

        weight = Allocate(columns);
        BenchmarkData.Fill(Span(weight, columns), random, 0.5f, 1.5f);

        int sets = BenchmarkData.BufferSets(2L * Length * sizeof(float));
        inputs = new float*[sets];
        outputs = new float*[sets];
        for (int s = 0; s < sets; s++)
        {
            inputs[s] = Allocate(Length);
            outputs[s] = Allocate(Length);
            BenchmarkData.Fill(Span(inputs[s], Length), random, 0.25f, 2.25f);
            Span(outputs[s], Length).Fill(float.NaN); // touch every page now, not during the first iteration
        }

        // Each implementation must compute rms_norm before it is timed; this also warms the dispatcher.
        var x = Span(inputs[0], Length);
        var w = Span(weight, columns);
        var y = Span(outputs[0], Length);
        NaiveScalar(x, w, y);
        BenchmarkData.Verify(nameof(NaiveScalar), x, w, y);
        TensorPrimitivesFormula(x, w, y);
        BenchmarkData.Verify(nameof(TensorPrimitivesFormula), x, w, y);
        RmsNorm.Compute<float>(x, shape, normalizedShape, w, y, hostOptions);
        BenchmarkData.Verify(nameof(IlgpuNormHost), x, w, y);
        onnx = new OnnxRmsNorm(rows, columns, BenchmarkData.Epsilon, weight, inputs, outputs);
        onnx.Run(0);
        BenchmarkData.Verify(nameof(OnnxRuntime), x, w, y);
        next = 0;
    }

    /// <summary>Frees the native buffers.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>Copies x to y: the bytes of one pass (x read, y written) with no arithmetic; the memory ceiling.</summary>
    [Benchmark]
    public void Copy()
    {
        int s = NextSet();
        Span(inputs[s], Length).CopyTo(Span(outputs[s], Length));
    }

    /// <summary>Copies x to y on every core, one contiguous part each: the memory ceiling of the parallel paths.</summary>
    [Benchmark]
    public void CopyParallel()
    {
        int s = NextSet();
        HostBench.CopyParallel(inputs[s], outputs[s], Length, Environment.ProcessorCount);
    }

    /// <summary>ONNX Runtime 1.31's CPU RMSNormalization (opset 23) on every core, on the same buffers.</summary>
    [Benchmark]
    public void OnnxRuntime() => onnx!.Run(NextSet());

    /// <summary>The baseline: one scalar loop per row, float32 sum of squares, y = x / sqrt(mean + eps) * w.</summary>
    [Benchmark(Baseline = true)]
    public void NaiveScalar()
    {
        int s = NextSet();
        NaiveScalar(Span(inputs[s], Length), Span(weight, columns), Span(outputs[s], Length));
    }

    /// <summary>Per row: TensorPrimitives.SumOfSquares, then Divide by the denominator, then Multiply by the weight.</summary>
    [Benchmark]
    public void TensorPrimitivesFormula()
    {
        int s = NextSet();
        TensorPrimitivesFormula(Span(inputs[s], Length), Span(weight, columns), Span(outputs[s], Length));
    }

    /// <summary>The library: RmsNorm.Compute on the host device into a preallocated destination.</summary>
    [Benchmark]
    public void IlgpuNormHost()
    {
        int s = NextSet();
        RmsNorm.Compute<float>(Span(inputs[s], Length), shape, normalizedShape, Span(weight, columns), Span(outputs[s], Length), hostOptions);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        onnx?.Dispose();
        onnx = null;
        for (int s = 0; s < inputs.Length; s++)
        {
            NativeMemory.AlignedFree(inputs[s]);
            NativeMemory.AlignedFree(outputs[s]);
        }

        NativeMemory.AlignedFree(weight);
        inputs = [];
        outputs = [];
        weight = null;
        GC.SuppressFinalize(this);
    }

    private static void NaiveScalar(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y)
    {
        int n = w.Length;
        for (int row = 0; row < x.Length; row += n)
        {
            var xs = x.Slice(row, n);
            var ys = y.Slice(row, n);
            float sum = 0f;
            for (int i = 0; i < xs.Length; i++)
            {
                sum += xs[i] * xs[i];
            }

            float d = MathF.Sqrt(sum / n + BenchmarkData.Epsilon);
            for (int i = 0; i < xs.Length; i++)
            {
                ys[i] = xs[i] / d * w[i];
            }
        }
    }

    private static void TensorPrimitivesFormula(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y)
    {
        int n = w.Length;
        for (int row = 0; row < x.Length; row += n)
        {
            var xs = x.Slice(row, n);
            var ys = y.Slice(row, n);
            float d = MathF.Sqrt(TensorPrimitives.SumOfSquares(xs) / n + BenchmarkData.Epsilon);
            TensorPrimitives.Divide(xs, d, ys);
            TensorPrimitives.Multiply(ys, w, ys);
        }
    }

    private static float* Allocate(int length) => (float*)NativeMemory.AlignedAlloc((nuint)length * sizeof(float), 64);

    private static Span<float> Span(float* p, int length) => new(p, length);

    private int NextSet()
    {
        int s = next;
        next = s + 1 == inputs.Length ? 0 : s + 1;
        return s;
    }
}
