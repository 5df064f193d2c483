using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// The fused residual add on the host (float32, end to end through <see cref="RmsNorm.ComputeFusedAdd{T}"/>) against
/// a copy of the same bytes (read x and residual, write y and a residual) and against the unfused add followed by
/// rms_norm (the baseline).
/// </summary>
/// <remarks>
/// <para>Buffers are 64-byte aligned native memory, seeded in [GlobalSetup]; shapes whose four tensors exceed half the
/// last-level cache rotate through enough sets to read from DRAM (<see cref="BenchmarkData.BufferSets"/>), as in
/// <see cref="HostRmsNormBenchmarks"/>. The residual grows by x on every call (it is updated in place), which changes
/// no timing: the values stay normal float32.</para>
/// <para>GB/s counts the bytes the fused operation must move, for every method: x and residual read, y and residual
/// written, the weight read (<see cref="FusedBandwidthColumn"/>). The unfused baseline actually moves more (the residual
/// twice more), which is the point of fusing.</para>
/// </remarks>
[Config(typeof(Config))]
public unsafe class FusedRmsNormBenchmarks : IDisposable
{
    private readonly RmsNormOptions hostOptions = new() { Device = DeviceRequest.Host };
    private int[] shape = [];
    private int[] normalizedShape = [];
    private int rows;
    private int columns;
    private float* weight;
    private float*[] inputs = [];
    private float*[] residuals = [];
    private float*[] outputs = [];
    private float*[] copies = [];
    private int next;

    /// <summary>[rows, hidden]: a small decode batch (cache-hot) and a 64 MiB prefill (from DRAM).</summary>
    public static IEnumerable<RmsNormShape> Shapes { get; } = [new(16, 4096), new(4096, 4096)];

    /// <summary>The shape of this case.</summary>
    [ParamsSource(nameof(Shapes))]
    public RmsNormShape Shape { get; set; } = new(16, 4096);

    private int Length => rows * columns;

    /// <summary>Allocates and fills every buffer, checks the fused call once against the unfused one and float64, and warms up.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (rows, columns) = (Shape.Rows, Shape.Columns);
        shape = [rows, columns];
        normalizedShape = [columns];
        var random = new Random(BenchmarkData.Seed);
        weight = Allocate(columns);
        BenchmarkData.Fill(Span(weight, columns), random, 0.5f, 1.5f);

        int sets = BenchmarkData.BufferSets(4L * Length * sizeof(float));
        inputs = new float*[sets];
        residuals = new float*[sets];
        outputs = new float*[sets];
        copies = new float*[sets];
        for (int s = 0; s < sets; s++)
        {
            inputs[s] = Allocate(Length);
            residuals[s] = Allocate(Length);
            outputs[s] = Allocate(Length);
            copies[s] = Allocate(Length);
            BenchmarkData.Fill(Span(inputs[s], Length), random, 0.25f, 2.25f);
            BenchmarkData.Fill(Span(residuals[s], Length), random, 0.25f, 2.25f);
            Span(outputs[s], Length).Fill(float.NaN); // touch every page now
            Span(copies[s], Length).Fill(float.NaN);
        }

        // The fused call must equal the unfused one, bit for bit, and rms_norm of the sum: checked before timing.
        var x = Span(inputs[0], Length);
        var w = Span(weight, columns);
        float[] residual = Span(residuals[0], Length).ToArray();
        float[] sum = new float[Length];
        float[] unfused = new float[Length];
        TensorPrimitives.Add(x, residual, sum);
        RmsNorm.Compute<float>(sum, shape, normalizedShape, w, unfused, hostOptions);
        RmsNorm.ComputeFusedAdd<float>(x, residual, shape, normalizedShape, w, default, Span(outputs[0], Length), hostOptions);
        if (!residual.AsSpan().SequenceEqual(sum) || !Span(outputs[0], Length).SequenceEqual(unfused))
        {
            throw new InvalidOperationException("The fused add differs from the unfused add followed by rms_norm.");
        }

        BenchmarkData.Verify(nameof(FusedAdd), sum, w, Span(outputs[0], Length));
        next = 0;
    }

    /// <summary>Frees the native buffers.</summary>
    [GlobalCleanup]
    public void Cleanup() => Dispose();

    /// <summary>The memory ceiling: x copied to y and the residual to a second buffer (two reads, two writes).</summary>
    [Benchmark]
    public void Copy()
    {
        int s = NextSet();
        Span(inputs[s], Length).CopyTo(Span(outputs[s], Length));
        Span(residuals[s], Length).CopyTo(Span(copies[s], Length));
    }

    /// <summary>The baseline: residual += x (TensorPrimitives), then RmsNorm.Compute of the residual.</summary>
    [Benchmark(Baseline = true)]
    public void UnfusedAddThenNorm()
    {
        int s = NextSet();
        var r = Span(residuals[s], Length);
        TensorPrimitives.Add(Span(inputs[s], Length), r, r);
        RmsNorm.Compute<float>(r, shape, normalizedShape, Span(weight, columns), Span(outputs[s], Length), hostOptions);
    }

    /// <summary>The library: RmsNorm.ComputeFusedAdd on the host device.</summary>
    [Benchmark]
    public void FusedAdd()
    {
        int s = NextSet();
        RmsNorm.ComputeFusedAdd<float>(Span(inputs[s], Length), Span(residuals[s], Length), shape, normalizedShape, Span(weight, columns), default, Span(outputs[s], Length), hostOptions);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        for (int s = 0; s < inputs.Length; s++)
        {
            NativeMemory.AlignedFree(inputs[s]);
            NativeMemory.AlignedFree(residuals[s]);
            NativeMemory.AlignedFree(outputs[s]);
            NativeMemory.AlignedFree(copies[s]);
        }

        NativeMemory.AlignedFree(weight);
        inputs = residuals = outputs = copies = [];
        weight = null;
        GC.SuppressFinalize(this);
    }

    private static float* Allocate(int length) => (float*)NativeMemory.AlignedAlloc((nuint)length * sizeof(float), 64);

    private static Span<float> Span(float* p, int length) => new(p, length);

    private int NextSet()
    {
        int s = next;
        next = s + 1 == inputs.Length ? 0 : s + 1;
        return s;
    }

    /// <summary>Median, fused GB/s, allocations; times in microseconds; the job from the command line.</summary>
    public sealed class Config : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public Config()
        {
            AddJob(HostBenchmarkConfig.Avx512Off(Program.SelectedJob));
            AddColumn(StatisticColumn.Median, new FusedBandwidthColumn());
            AddDiagnoser(MemoryDiagnoser.Default);
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
        }
    }

    /// <summary>GB/s of the fused traffic: 4 float32 tensors (x and residual read, y and residual written) and the weight, over the mean time.</summary>
    public sealed class FusedBandwidthColumn : IColumn
    {
        /// <inheritdoc />
        public string Id => nameof(FusedBandwidthColumn);

        /// <inheritdoc />
        public string ColumnName => "GB/s";

        /// <inheritdoc />
        public bool AlwaysShow => true;

        /// <inheritdoc />
        public ColumnCategory Category => ColumnCategory.Custom;

        /// <inheritdoc />
        public int PriorityInCategory => 0;

        /// <inheritdoc />
        public bool IsNumeric => true;

        /// <inheritdoc />
        public UnitType UnitType => UnitType.Dimensionless;

        /// <inheritdoc />
        public string Legend => "(x + residual read, y + residual written, weight read) / Mean, in 10^9 bytes/s, for every method";

        /// <inheritdoc />
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            ArgumentNullException.ThrowIfNull(summary);
            ArgumentNullException.ThrowIfNull(benchmarkCase);
            double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            return benchmarkCase.Parameters["Shape"] is RmsNormShape s && mean is > 0
                ? ((4 * s.TensorBytes + s.WeightBytes) / mean.Value).ToString("N2", CultureInfo.InvariantCulture)
                : "NA";
        }

        /// <inheritdoc />
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        /// <inheritdoc />
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        /// <inheritdoc />
        public bool IsAvailable(Summary summary) => true;

        /// <inheritdoc />
        public override string ToString() => ColumnName;
    }
}
