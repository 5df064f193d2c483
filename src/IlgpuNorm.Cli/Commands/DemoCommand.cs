using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuNorm.Verification;

namespace IlgpuNorm.Cli.Commands;

/// <summary>
/// <c>ilgpunorm demo</c>: normalizes a [4096, 4096] float32 batch with a random weight on the chosen device, checks
/// sampled rows against the float64 reference, and reports the median time and the bandwidth achieved.
/// </summary>
internal static class DemoCommand
{
    private const int Hidden = 4096;
    private const int Rows = 4096;
    private const int SlowRows = 64;
    private const int SampledRows = 256;
    private const int TimedRuns = 5;

    public static Command Create()
    {
        var device = new Option<string>("--device", "-d") { Description = "auto|host|cpu|opencl|cuda[:N] (default auto)." };
        var command = new Command("demo", "Normalize a [4096, 4096] float32 batch on a device, check it, and report time and GB/s.")
        {
            device,
        };
        command.SetAction(result => Execute(result.GetValue(device), result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the demo.</summary>
    /// <param name="device">The device text, or null for auto.</param>
    /// <param name="stdout">Receives the report.</param>
    /// <param name="stderr">Receives errors.</param>
    /// <returns>0 when the result matches the reference; <see cref="ExitCodes.Failure"/> on a mismatch.</returns>
    public static int Execute(string? device, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        var request = CliParsing.Device("--device", device);
        var selection = DeviceDispatcher.Shared.Select(request);
        stdout.WriteLine($"device: {selection.Device}: {selection.Reason}");

        // ILGPU's CPU accelerator runs every GPU thread as an OS thread: the full batch would take minutes there.
        bool slow = selection.Device.Kind == DeviceKind.Cpu;
        int rows = slow ? SlowRows : Rows;
        if (slow)
        {
            stdout.WriteLine($"note: the ILGPU CPU accelerator is slow; using [{rows}, {Hidden}] instead of [{Rows}, {Hidden}]");
        }

        var random = new Random(42);
        float[] x = new float[rows * Hidden];
        float[] w = new float[Hidden];
        float[] y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 6) - 3);
        }

        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)((random.NextDouble() * 2) - 1);
        }

        int[] shape = [rows, Hidden];
        int[] normalized = [Hidden];
        var options = new RmsNormOptions { Device = selection.Device.Request };
        RmsNorm.Compute<float>(x, shape, normalized, w, y, options); // warm-up: loads and compiles the kernels

        double[] milliseconds = new double[slow ? 3 : TimedRuns];
        for (int run = 0; run < milliseconds.Length; run++)
        {
            y.AsSpan().Fill(float.NaN);
            var clock = Stopwatch.StartNew();
            RmsNorm.Compute<float>(x, shape, normalized, w, y, options);
            milliseconds[run] = clock.Elapsed.TotalMilliseconds;
        }

        Array.Sort(milliseconds);
        double median = milliseconds[milliseconds.Length / 2];
        long bytes = (x.LongLength + w.LongLength + y.LongLength) * sizeof(float);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"shape [{rows}, {Hidden}] float32, weight [{Hidden}], eps {RmsNormOptions.DefaultEpsilon:R}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"time: median {median:0.###} ms of {milliseconds.Length} runs after 1 warm-up (end to end: host arrays in and out, device copies included)"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bandwidth: {bytes / (median / 1e3) / 1e9:0.##} GB/s ({bytes / 1e6:0.#} MB: read x + read w + write y)"));

        // The float64 reference of every row would take seconds: check an evenly spread sample, first and last rows included.
        int sampled = Math.Min(rows, SampledRows);
        long maxUlp = 0;
        string? mismatch = null;
        for (int s = 0; s < sampled; s++)
        {
            int row = sampled == 1 ? 0 : (int)((long)s * (rows - 1) / (sampled - 1));
            var xRow = x.AsSpan(row * Hidden, Hidden);
            float[] expected = RmsNormReference.Compute<float>(xRow, [1, Hidden], normalized, w);
            float[] unweighted = RmsNormReference.Compute<float>(xRow, [1, Hidden], normalized, default);
            for (int i = 0; i < Hidden; i++)
            {
                float actual = y[(row * Hidden) + i];
                long ulp = Ulp.Distance(actual, expected[i]);
                maxUlp = Math.Max(maxUlp, ulp);
                if (!Tolerance.Accepts(actual, expected[i], unweighted[i], w[i]) && mismatch is null)
                {
                    mismatch = string.Create(CultureInfo.InvariantCulture,
                        $"row {row}, element {i}: got {y[(row * Hidden) + i]:R}, expected {expected[i]:R}");
                }
            }
        }

        string ulpText = maxUlp == long.MaxValue ? "inf" : maxUlp.ToString(CultureInfo.InvariantCulture);
        stdout.WriteLine(
            $"check: {sampled} sampled rows against the float64 reference: max {ulpText} ulp " +
            $"(budget {Tolerance.UlpBudget(ElementType.Float32)} before the weight): {(mismatch is null ? "ok" : "MISMATCH")}");
        if (mismatch is not null)
        {
            stderr.WriteLine($"error: result differs from the reference at {mismatch}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    });
}
