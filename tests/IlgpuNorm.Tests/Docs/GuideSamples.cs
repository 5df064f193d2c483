using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Half = System.Half;
using IlgpuNorm.IO;
using IlgpuNorm.Tests.Cli;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Docs;

/// <summary>
/// The code samples of docs/guides: each sample is the text between <c>// begin-snippet: NAME</c> and <c>// end-snippet</c>,
/// copied verbatim into a guide (GuideSnippetTests checks that), and run here with asserts on what it computed.
/// </summary>
public sealed class GuideSamples : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("guide-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // ---------------------------------------------------------------- 1. Getting started

    [Fact]
    public void GettingStarted_FirstCall()
    {
        // begin-snippet: getting-started-first-call
        float[] x = [1f, 2f, 3f, 4f, -1f, 0.5f, 2f, -3f];   // shape [2, 4], C order
        float[] w = [1f, 1f, 0.5f, 2f];                     // shape [4]
        float[] y = RmsNorm.Compute<float>(x, shape: [2, 4], normalizedShape: [4], weight: w);
        // y[0..4] = x[0..4] / sqrt(mean(x[0..4]²) + 1e-6) * w
        // end-snippet
        double rms = Math.Sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
        Assert.Equal(2 / rms, y[1], 1e-6);
        Assert.Equal(4 / rms * 2, y[3], 1e-6);
        Assert.Equal(8, y.Length);
    }

    [Fact]
    public void GettingStarted_DestinationAndOptions()
    {
        float[] x = [.. Enumerable.Range(0, 6 * 4096).Select(i => MathF.Sin(i * 0.01f))];
        float[] w = [.. Enumerable.Range(0, 4096).Select(i => 1 + (i % 7 * 0.125f))];
        float[] reference = RmsNorm.Compute<float>(x, [6, 4096], [4096], w, new RmsNormOptions { Epsilon = 1e-5 });

        // begin-snippet: getting-started-destination
        // Into a buffer you own (no allocation), with options:
        var y = new float[x.Length];
        var options = new RmsNormOptions { Epsilon = 1e-5, Device = DeviceRequest.Host };
        RmsNorm.Compute<float>(x, [6, 4096], [4096], w, y, options);

        // In place: the destination may be the input itself.
        RmsNorm.Compute<float>(x, [6, 4096], [4096], w, x, options);
        // end-snippet
        Assert.Equal(reference, y);
        Assert.Equal(reference, x);
    }

    [Fact]
    public void GettingStarted_Dtypes()
    {
        // begin-snippet: getting-started-dtypes
        Half[] xh = [(Half)0.5f, (Half)(-2f), (Half)3f];
        Half[] yh = RmsNorm.Compute<Half>(xh, [1, 3], [3]);                 // no weight

        BFloat16[] xb = [(BFloat16)0.5f, (BFloat16)(-2f), (BFloat16)3f];
        BFloat16[] yb = RmsNorm.Compute<BFloat16>(xb, [3], [3]);            // rank 1: one row

        double[] xd = [0.5, -2, 3];
        double[] yd = RmsNorm.Compute<double>(xd, [1, 3], [3], options: new RmsNormOptions { Epsilon = 0 });
        // end-snippet
        double rms = Math.Sqrt((0.25 + 4 + 9) / 3);
        Assert.Equal(3 / rms, yd[2], 14);
        Assert.Equal(3 / rms, (double)yh[2], 2);
        Assert.Equal(3 / rms, (float)yb[2], 1);
    }

    [Fact]
    public void GettingStarted_GroupsAndShapes()
    {
        float[] x = [.. Enumerable.Range(0, 2 * 3 * 8).Select(i => (i % 5) - 2.5f)];

        // begin-snippet: getting-started-groups
        // Two normalized dimensions: each [3, 8] slice of a [2, 3, 8] input is one row.
        float[] perSlice = RmsNorm.Compute<float>(x, [2, 3, 8], normalizedShape: [3, 8]);

        // num_groups: each of the 4 groups of 2 channels is normalized on its own; the weight stays [8].
        float[] w = [1, 2, 3, 4, 5, 6, 7, 8];
        float[] grouped = RmsNorm.Compute<float>(x, [2, 3, 8], [8], w, new RmsNormOptions { NumGroups = 4 });
        // end-snippet
        double rowRms = Math.Sqrt(x.Take(24).Sum(v => (double)v * v) / 24 + 1e-6);
        Assert.Equal(x[5] / rowRms, perSlice[5], 1e-6);
        double groupRms = Math.Sqrt(((double)x[2] * x[2] + (double)x[3] * x[3]) / 2 + 1e-6);
        Assert.Equal(x[3] / groupRms * 4, grouped[3], 1e-5);
    }

    [Fact]
    public void GettingStarted_Errors()
    {
        float[] x = new float[12];
        string message = string.Empty;

        // begin-snippet: getting-started-errors
        try
        {
            RmsNorm.Compute<float>(x, [3, 4], normalizedShape: [5]);
        }
        catch (ArgumentException ex)
        {
            // Names the parameter, what was expected and what was given; nothing was computed or written.
            message = ex.Message;
        }
        // end-snippet
        Assert.Contains("normalizedShape", message, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- 2. GPU pipelines

    [Fact]
    public void GpuPipeline_OneCall()
    {
        const int rows = 4, hidden = 96;
        float[] hostX = [.. Enumerable.Range(0, rows * hidden).Select(i => MathF.Cos(i * 0.37f))];
        float[] hostW = [.. Enumerable.Range(0, hidden).Select(i => 0.5f + (i % 3))];

        // begin-snippet: gpu-one-call
        using var context = Context.CreateDefault();
        using var accelerator = context.GetPreferredDevice(preferCPU: false).CreateAccelerator(context);
        using var kernels = new RmsNormKernels(accelerator);   // one per accelerator; compiles each dtype once, on first use

        using var x = accelerator.Allocate1D(hostX);          // float, double, ILGPU.Half / System.Half or BFloat16
        using var w = accelerator.Allocate1D(hostW);
        using var y = accelerator.Allocate1D<float>(rows * hidden);
        kernels.Compute(x.View.BaseView, [rows, hidden], [hidden], w.View.BaseView, y.View.BaseView, epsilon: 1e-6);
        float[] result = y.GetAsArray1D();                    // a copy back that waits for the kernel
        // end-snippet
        Support.Check.AssertClose(hostX, [rows, hidden], [hidden], hostW, 1e-6, 1, result, $"guide 2 on {accelerator.Name}");
    }

    [Fact]
    public void GpuPipeline_StreamsAndResidentData()
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        const int tokens = 3, hidden = 64;
        float[] input = [.. Enumerable.Range(0, tokens * hidden).Select(i => (i % 11) - 5f)];
        using var hidden0 = accelerator.Allocate1D(input);
        using var gamma1 = accelerator.Allocate1D([.. Enumerable.Repeat(2f, hidden)]);
        using var gamma2 = accelerator.Allocate1D([.. Enumerable.Repeat(0.5f, hidden)]);

        // begin-snippet: gpu-streams
        kernels.Preload();                                    // optional: compile every dtype now, off the hot path

        using var stream = accelerator.CreateStream();
        using var normed = accelerator.Allocate1D<float>(tokens * hidden);

        // Two normalizations back to back on one stream: queued, in order, nothing goes through the host.
        kernels.Compute(hidden0.View.BaseView, [tokens, hidden], [hidden], gamma1.View.BaseView, normed.View.BaseView, stream: stream);
        kernels.Compute(normed.View.BaseView, [tokens, hidden], [hidden], gamma2.View.BaseView, normed.View.BaseView, stream: stream); // in place

        var output = new float[tokens * hidden];
        normed.View.CopyToCPU(stream, output);
        stream.Synchronize();                                 // only now is `output` filled
        // end-snippet
        float[] expected = RmsNorm.Compute<float>(RmsNorm.Compute<float>(input, [tokens, hidden], [hidden], [.. Enumerable.Repeat(2f, hidden)]),
            [tokens, hidden], [hidden], [.. Enumerable.Repeat(0.5f, hidden)]);
        Support.Check.AssertClose(expected, output, "two stream launches");
    }

    [Fact]
    public async Task GpuPipeline_SharingAcrossThreads()
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        var results = new float[4][];

        // begin-snippet: gpu-threads
        // One RmsNormKernels for the accelerator, shared; each thread has its own stream and buffers.
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            using var stream = accelerator.CreateStream();
            using var data = accelerator.Allocate1D<float>(2 * 32);
            data.View.CopyFromCPU(stream, Enumerable.Range(0, 64).Select(i => (float)(i + worker)).ToArray());
            kernels.Compute(data.View.BaseView, [2, 32], [32], default, data.View.BaseView, stream: stream);
            results[worker] = new float[64];
            data.View.CopyToCPU(stream, results[worker]);
            stream.Synchronize();
        }));
        await Task.WhenAll(workers);
        // end-snippet
        for (int worker = 0; worker < 4; worker++)
        {
            float[] x = [.. Enumerable.Range(0, 64).Select(i => (float)(i + worker))];
            Support.Check.AssertClose(x, [2, 32], [32], [], 1e-6, 1, results[worker], $"worker {worker}");
        }
    }

    // ---------------------------------------------------------------- 3. Choosing a device

    [Fact]
    public void Devices_ListAndSelect()
    {
        // begin-snippet: devices-list
        foreach (DeviceInfo device in DeviceDispatcher.Shared.Devices)   // best first
        {
            Console.WriteLine($"{device.Request,-10} {device.Name} ({device.Detail})");
        }

        DeviceSelection auto = DeviceDispatcher.Shared.Select();         // what RmsNorm.Compute uses by default, and why
        Console.WriteLine($"auto: {auto.Device.Request}: {auto.Reason}");
        // end-snippet
        Assert.Contains(DeviceDispatcher.Shared.Devices, d => d.Kind == DeviceKind.Host);
        Assert.False(string.IsNullOrEmpty(auto.Reason));
    }

    [Fact]
    public void Devices_Force()
    {
        float[] x = [3f, 4f];

        // begin-snippet: devices-force
        var onCpuAccelerator = new RmsNormOptions { Device = DeviceRequest.Parse("cpu") };    // or "host", "cuda:1", "opencl"
        float[] a = RmsNorm.Compute<float>(x, [1, 2], [2], options: onCpuAccelerator);

        var onHost = new RmsNormOptions { Device = DeviceRequest.Host };
        float[] b = RmsNorm.Compute<float>(x, [1, 2], [2], options: onHost);
        // end-snippet
        Support.Check.AssertClose(a, b, "host vs cpu accelerator");
    }

    [Fact]
    public void Devices_Unavailable()
    {
        float[] x = [3f, 4f];
        string? reason = null;

        // begin-snippet: devices-unavailable
        try
        {
            RmsNorm.Compute<float>(x, [1, 2], [2], options: new RmsNormOptions { Device = DeviceRequest.Parse("cuda:7") });
        }
        catch (DeviceUnavailableException ex)
        {
            reason = ex.Message;   // why, and which devices were found
        }
        // end-snippet
        Assert.NotNull(reason);
        Assert.Contains("cuda:7", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Devices_Messages()
    {
        // begin-snippet: devices-messages
        DeviceDispatcher.Shared.Message += (_, line) => Console.Error.WriteLine($"[ilgpunorm] {line}");   // from now on
        IReadOnlyList<string> log = DeviceDispatcher.Shared.Messages;                                 // what happened so far
        // end-snippet
        _ = RmsNorm.Compute<float>([1f, 2f], [2], [2], options: new RmsNormOptions { Device = DeviceRequest.Cpu });
        Assert.NotNull(log);
        Assert.Contains(DeviceDispatcher.Shared.Messages, m => m.Contains("cpu", StringComparison.Ordinal));
    }

    [Fact]
    public void Devices_ManyThreads()
    {
        float[][] batches = [.. Enumerable.Range(0, 16).Select(b => Enumerable.Range(0, 4 * 128).Select(i => (float)Math.Sin(b + i)).ToArray())];
        float[] w = [.. Enumerable.Repeat(1.5f, 128)];
        var outputs = new float[16][];

        // begin-snippet: devices-threads
        // RmsNorm.Compute may be called from any number of threads, on any device.
        Parallel.For(0, batches.Length, i =>
        {
            var options = new RmsNormOptions { Device = i % 4 == 0 ? DeviceRequest.Cpu : DeviceRequest.Host };
            outputs[i] = RmsNorm.Compute<float>(batches[i], [4, 128], [128], w, options);
        });
        // end-snippet
        for (int i = 0; i < batches.Length; i++)
        {
            Support.Check.AssertClose(batches[i], [4, 128], [128], w, 1e-6, 1, outputs[i], $"batch {i}");
        }
    }

    // ---------------------------------------------------------------- 4. Numerics

    [Fact]
    public void Numerics_Formula()
    {
        float[] x = [0.1f, -0.7f, 2.5f, 1e-3f, 3.25f];
        float[] w = [1f, 0.5f, 2f, 1f, -1f];

        // begin-snippet: numerics-formula
        float[] y = RmsNorm.Compute<float>(x, [5], [5], w, new RmsNormOptions { Epsilon = 1e-6 });

        // The same in float64, by hand: within 4 ulp for float32 (the tolerance table).
        double meanSquare = x.Sum(v => (double)v * v) / x.Length;
        double[] byHand = [.. x.Select((v, i) => v / Math.Sqrt(meanSquare + 1e-6) * w[i])];
        // end-snippet
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Ulp.Distance(y[i], (float)byHand[i]) <= 4, $"element {i}: {y[i]} vs {byHand[i]}");
        }
    }

    [Fact]
    public void Numerics_SpecialValues()
    {
        // begin-snippet: numerics-special
        float[] x =
        [
            1f, float.NaN, 2f,                     // a NaN: the whole row is NaN
            1f, float.PositiveInfinity, 2f,        // an infinity: finite elements 0, the infinite one NaN
            0f, 0f, 0f,                            // all zeros: zeros (eps > 0)
            3f, 4f, 0f,                            // rows never affect each other
        ];
        float[] y = RmsNorm.Compute<float>(x, [4, 3], [3]);
        float[] zeroEps = RmsNorm.Compute<float>(x.AsSpan(6, 3), [1, 3], [3], options: new RmsNormOptions { Epsilon = 0 });   // 0/0: NaN
        // end-snippet
        Assert.All(y.Take(3), v => Assert.True(float.IsNaN(v)));
        Assert.Equal([0f, 0f], [y[3], y[5]]);
        Assert.True(float.IsNaN(y[4]));
        Assert.Equal([0f, 0f, 0f], y.Skip(6).Take(3));
        Assert.Equal(3 / MathF.Sqrt(25f / 3 + 1e-6f), y[9], 1e-6f);
        Assert.All(zeroEps, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Numerics_Deterministic()
    {
        float[] x = [.. Enumerable.Range(0, 64 * 4099).Select(i => MathF.Sin(i * 0.001f) * 3)];

        // begin-snippet: numerics-deterministic
        var device = new RmsNormOptions { Device = DeviceRequest.Cpu };
        float[] first = RmsNorm.Compute<float>(x, [64, 4099], [4099], options: device);
        float[] again = RmsNorm.Compute<float>(x, [64, 4099], [4099], options: device);
        bool sameBits = first.AsSpan().SequenceEqual(again);                        // true: fixed-order sums, no atomics

        float[] lastRowAlone = RmsNorm.Compute<float>(x.AsSpan(63 * 4099), [1, 4099], [4099], options: device);
        bool independent = lastRowAlone.AsSpan().SequenceEqual(first.AsSpan(63 * 4099));   // true: a row does not depend on the batch
        // end-snippet
        Assert.True(sameBits);
        Assert.True(independent);
    }

    [Fact]
    public void Numerics_ReferenceAndTolerance()
    {
        BFloat16[] x = [(BFloat16)1.5f, (BFloat16)(-0.3f), (BFloat16)7f, (BFloat16)0.01f];
        BFloat16[] w = [(BFloat16)0.5f, (BFloat16)2f, (BFloat16)1f, (BFloat16)(-3f)];

        // begin-snippet: numerics-reference
        BFloat16[] y = RmsNorm.Compute<BFloat16>(x, [1, 4], [4], w);

        // The float64 reference under the policy, and the per-dtype budget the tests and `ilgpunorm verify` use.
        BFloat16[] expected = RmsNormReference.Compute<BFloat16>(x, [1, 4], [4], w);
        BFloat16[] unweighted = RmsNormReference.Compute<BFloat16>(x, [1, 4], [4], default);
        bool ok = Enumerable.Range(0, y.Length).All(i => Tolerance.Accepts(y[i], expected[i], unweighted[i], w[i]));
        long budget = Tolerance.UlpBudget(ElementType.BFloat16);   // 1 ulp
        // end-snippet
        Assert.True(ok);
        Assert.Equal(1, budget);
    }

    [Fact]
    public void Numerics_Policies()
    {
        Half[] x = [(Half)0.3f, (Half)(-1.7f), (Half)2.2f, (Half)0.05f];
        Half[] w = [(Half)1.1f, (Half)0.9f, (Half)1.3f, (Half)0.7f];

        // begin-snippet: numerics-policies
        // TensorRT-LLM (the default): (T)((T)(x / d) * w), two roundings.
        Half[] trtllm = RmsNorm.Compute<Half>(x, [1, 4], [4], w);

        // PyTorch, FlashInfer, Hugging Face: (T)(x / d * w), the weight applied in float32, one rounding.
        Half[] pytorch = RmsNorm.Compute<Half>(x, [1, 4], [4], w, new RmsNormOptions { Policy = RmsNormPolicy.WeightInFloat32 });

        // Gemma: (T)(x / d * (1 + w)), the offset added to the weight in float32.
        Half[] gemma = RmsNorm.Compute<Half>(x, [1, 4], [4], w, new RmsNormOptions { Policy = RmsNormPolicy.WeightInFloat32, WeightOffset = 1f });
        // end-snippet

        // d = sqrt(mean(x²) + eps) in float32, then each policy exactly.
        float d = MathF.Sqrt((float)x.Sum(v => (double)(float)v * (float)v) / 4 + 1e-6f);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal((Half)((float)(Half)((float)x[i] / d) * (float)w[i]), trtllm[i]);
            Assert.Equal((Half)((float)x[i] / d * (float)w[i]), pytorch[i]);
            Assert.Equal((Half)((float)x[i] / d * (1f + (float)w[i])), gemma[i]);
        }
    }

    // ---------------------------------------------------------------- 5. The command-line tool

    /// <summary>Writes the guide's input files, then runs every <c>ilgpunorm</c> line of guide 5 in that folder.</summary>
    [Fact]
    public void Cli_EveryCommandOfTheGuideRuns()
    {
        // begin-snippet: cli-inputs
        float[] x = [.. Enumerable.Range(0, 8 * 64).Select(i => MathF.Sin(i * 0.1f))];
        float[] w = [.. Enumerable.Range(0, 64).Select(i => 1f + (i % 4 * 0.25f))];
        NpyFile.Write(Path.Combine(folder, "x.npy"), x, [8, 64]);
        NpyFile.Write(Path.Combine(folder, "w.npy"), w, [64]);
        NpyFile.Write(Path.Combine(folder, "xb.npy"), x.Select(v => ((BFloat16)v).RawValue).ToArray(), [8, 64]);   // bfloat16 bits as <u2
        // end-snippet
        var lines = GuideFiles.CliLines("05-command-line.md");
        Assert.True(lines.Count >= 6, $"guide 5 shows {lines.Count} commands");
        foreach (string line in lines)
        {
            string[] args = [.. GuideFiles.SplitArguments(line).Skip(1).Select(a => GuideFiles.IsPath(a) ? Path.Combine(folder, a) : a)];
            foreach (string dir in args.Where(a => a.EndsWith('/')))
            {
                Directory.CreateDirectory(dir);
            }

            var result = CliResult.Run(args);
            Assert.True(result.ExitCode == 0, $"`{line}` exited {result.ExitCode}: {result.Stderr}");
        }

        var y = NpyFile.Read(Path.Combine(folder, "y.npy")).ToArray<float>();
        Assert.Equal(x.Length, y.Length);
        Assert.True(File.Exists(Path.Combine(folder, "yb.npy")));
    }
}
