using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using IlgpuNorm.Benchmarking;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// float16 and bfloat16 rms_norm on the host at the shapes whose data comes from memory, end to end through the public
/// API with a weight, against copies of the same 16-bit buffers: issue 12's targets (float16 at least 50% and bfloat16 at
/// least 75% of the copy), in the same run as <see cref="HostRmsNormBenchmarks"/> and on both vector widths.
/// </summary>
/// <remarks>Buffers as in <see cref="HostRmsNormBenchmarks"/>: 64-byte aligned native memory, seeded data (the shared
/// harness's <see cref="BenchData"/>), rotating sets totalling at least max(512 MiB, 4x LLC). <c>Copy</c> is the baseline
/// (Ratio column); <c>% of copy</c> is against the faster of <c>Copy</c> and <c>CopyParallel</c>.</remarks>
/// <typeparam name="T"><see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
[Config(typeof(HostBenchmarkConfig))]
[GenericTypeArguments(typeof(Half))]
[GenericTypeArguments(typeof(BFloat16))]
public unsafe class HostRmsNormSixteenBitBenchmarks<T> : IDisposable
    where T : unmanaged
{
    private readonly RmsNormOptions hostOptions = new() { Device = DeviceRequest.Host };
    private int[] shape = [];
    private int[] normalizedShape = [];
    private int length;
    private T* weight;
    private T*[] inputs = [];
    private T*[] outputs = [];
    private int next;

    /// <summary>[rows, normalized length], 16-bit elements: a 32 MiB prefill and a wide model, both past the last-level cache.</summary>
    public IEnumerable<RmsNormShape> Shapes => [new(1024, 8192, 2), new(4096, 4096, 2)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(4096, 4096, 2);

    /// <summary>Allocates and fills every buffer, checks the library's output against float64 once, and warms up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int columns = Shape.Columns;
        length = Shape.Elements;
        shape = [Shape.Rows, columns];
        normalizedShape = [columns];
        var random = new Random(BenchmarkData.Seed);
        weight = Allocate(columns);
        BenchData.FillWeight(Span(weight, columns), random);
        int sets = BenchmarkData.BufferSets(2 * Shape.TensorBytes);
        inputs = new T*[sets];
        outputs = new T*[sets];
        for (int s = 0; s < sets; s++)
        {
            inputs[s] = Allocate(length);
            outputs[s] = Allocate(length);
            BenchData.FillInput(Span(inputs[s], length), random);
            Span(outputs[s], length).Clear(); // touch every page now, not during the first iteration
        }

        RmsNorm.Compute<T>(Span(inputs[0], length), shape, normalizedShape, Span(weight, columns), Span(outputs[0], length), hostOptions);
        BenchData.CheckFirstAndLastRows<T>(Span(inputs[0], length), Span(weight, columns), Span(outputs[0], length), new BenchShape(Shape.Rows, columns));
        next = 0;
    }

    /// <summary>Frees the native buffers.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>Copies x to y on one thread: the bytes of one pass, no arithmetic.</summary>
    [Benchmark(Baseline = true)]
    public void Copy()
    {
        int s = NextSet();
        Span(inputs[s], length).CopyTo(Span(outputs[s], length));
    }

    /// <summary>Copies x to y on every core, one contiguous part each.</summary>
    [Benchmark]
    public void CopyParallel()
    {
        int s = NextSet();
        HostBench.CopyParallel(inputs[s], outputs[s], length, Environment.ProcessorCount);
    }

    /// <summary>The library: RmsNorm.Compute on the host device into a preallocated destination.</summary>
    [Benchmark]
    public void IlgpuNormHost()
    {
        int s = NextSet();
        RmsNorm.Compute<T>(Span(inputs[s], length), shape, normalizedShape, Span(weight, Shape.Columns), Span(outputs[s], length), hostOptions);
    }

    /// <inheritdoc />
    public void Dispose()
    {
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

    private static T* Allocate(int count) => (T*)NativeMemory.AlignedAlloc((nuint)count * (nuint)sizeof(T), 64);

    private static Span<T> Span(T* p, int count) => new(p, count);

    private int NextSet()
    {
        int s = next;
        next = s + 1 == inputs.Length ? 0 : s + 1;
        return s;
    }
}
