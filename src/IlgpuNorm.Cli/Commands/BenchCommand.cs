using System.CommandLine;
using System.Globalization;
using IlgpuNorm.Benchmarking;
using IlgpuNorm.Cli.Bench;

namespace IlgpuNorm.Cli.Commands;

/// <summary>
/// <c>ilgpunorm bench</c>: rms_norm GB/s per backend, dtype and shape, each against the copy limit of the same bytes
/// measured in the same run; a table on stdout, progress on stderr, optionally a JSON file and a PNG chart.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Rows the ILGPU CPU accelerator runs at most: it runs one OS thread per GPU thread.</summary>
    public const int CpuAcceleratorMaxRows = 64;

    public static Command Create()
    {
        var shape = new Option<string>("--shape", "-s") { HelpName = "RxH,...", Description = "Shapes ROWSxHIDDEN[,...] (default 1x4096,16x4096,4096x4096,1024x8192, plus 32768x4096 on GPUs)." };
        var dtype = new Option<string>("--dtype", "-t") { HelpName = "f32,f16,bf16,f64", Description = "Dtypes f32,f16,bf16,f64 (default f32)." };
        var device = new Option<string>("--device", "-d") { HelpName = "DEVICE", Description = "auto|host|cpu|opencl|cuda[:N]|all, or a comma-separated list (default: every backend found except the slow ILGPU CPU accelerator)." };
        var json = new Option<string>("--json") { HelpName = "FILE", Description = "Also write the results to this file, as a JSON array." };
        var plot = new Option<string>("--plot") { HelpName = "FILE.png", Description = "Also draw GB/s per shape and backend, with the copy limits, into this PNG file." };
        var minTime = new Option<string>("--min-time") { HelpName = "SECONDS", Description = "Seconds each measurement runs at least (default 0.2; and at least 5 samples)." };
        var command = new Command("bench", "Measure rms_norm GB/s per backend, dtype and shape against a copy of the same bytes measured in the same run.")
        {
            shape, dtype, device, json, plot, minTime,
        };
        command.SetAction(result => Execute(
            new BenchSettings
            {
                Shape = result.GetValue(shape),
                Dtype = result.GetValue(dtype),
                Device = result.GetValue(device),
                Json = result.GetValue(json),
                Plot = result.GetValue(plot),
                MinTime = result.GetValue(minTime),
            },
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the command.</summary>
    /// <returns>0 when every measurement ran, <see cref="ExitCodes.Usage"/> for bad options, <see cref="ExitCodes.Failure"/> when a measurement failed.</returns>
    public static int Execute(BenchSettings settings, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        var options = BenchOptions.Parse(settings);
        var backends = Backends(options, stdout);
        int total = backends.Sum(b => b.Shapes.Count) * options.Types.Count;

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench: rms_norm over the hidden axis with a weight, eps {RmsNormOptions.DefaultEpsilon:0.###e+0}, seeded random data; " +
            $"median of >= {Timing.MinSamples} samples and >= {options.MinTime:0.###} s per measurement after an untimed warm-up"));

        var progress = new BenchProgress(stderr, BenchProgress.IsTerminal(stderr), total);
        var results = new List<BenchResult>();
        var failures = new List<string>();
        foreach (var backend in backends)
        {
            var copies = new Dictionary<long, CopyMeasurement>();
            foreach (var shape in backend.Shapes)
            {
                foreach (var type in options.Types)
                {
                    string what = $"{backend.Device.Request} {ElementTypes.ShortName(type)} {shape}";
                    progress.Starting(what);
                    try
                    {
                        var result = backend.Kernels is null
                            ? HostBench.Run(backend.Device, type, shape, options.MinTime)
                            : DeviceBench.Run(backend.Device, backend.Kernels, type, shape, options.MinTime, copies);
                        results.Add(result);
                        progress.Finished(string.Create(CultureInfo.InvariantCulture,
                            $"{what}: {FormatMicroseconds(result.MedianSeconds * 1e6)} us, {FormatGbps(result.Gbps)} GB/s (copy {FormatGbps(result.Copy.Gbps)} GB/s)"));
                    }
                    catch (Exception ex) when (ex is not UsageException)
                    {
                        string failure = $"{what}: {ex.GetType().Name}: {CommandEdge.OneLine(ex.Message)}";
                        failures.Add(failure);
                        progress.Message("failed: " + failure);
                    }
                }
            }
        }

        progress.Clear();
        WriteTable(stdout, results);
        WriteNotes(stdout, results);

        if (options.JsonPath is not null)
        {
            BenchJson.Write(options.JsonPath, results, options.MinTime);
            stdout.WriteLine($"json: {options.JsonPath}");
        }

        if (options.PlotPath is not null && results.Count > 0)
        {
            BenchPlot.Write(options.PlotPath, results);
            stdout.WriteLine($"plot: {options.PlotPath}" + (BenchPlot.HasFonts ? string.Empty : " (no fonts found under /usr/share/fonts: the chart has no text; install fonts-dejavu-core)"));
        }

        if (failures.Count > 0)
        {
            stderr.WriteLine($"error: {failures.Count} measurement(s) failed; first: {failures[0]}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    });

    /// <summary>The shapes a device runs: the given ones or the defaults (the large one on GPUs only), capped in rows on the ILGPU CPU accelerator.</summary>
    /// <param name="shapes">The shapes given, or null for the defaults.</param>
    /// <param name="device">The device.</param>
    /// <param name="capped">The shapes that were capped, as <c>from → to</c>; empty when none.</param>
    /// <returns>The shapes, without repeats.</returns>
    internal static List<BenchShape> ShapesFor(IReadOnlyList<BenchShape>? shapes, DeviceInfo device, out List<string> capped)
    {
        ArgumentNullException.ThrowIfNull(device);
        var chosen = shapes ?? (device.IsGpu ? [.. BenchOptions.DefaultShapes, BenchOptions.GpuOnlyShape] : BenchOptions.DefaultShapes);
        capped = [];
        if (device.Kind != DeviceKind.Cpu)
        {
            return [.. chosen];
        }

        var result = new List<BenchShape>();
        foreach (var shape in chosen)
        {
            var cut = shape with { Rows = Math.Min(shape.Rows, CpuAcceleratorMaxRows) };
            if (cut != shape)
            {
                capped.Add($"{shape} -> {cut}");
            }

            if (!result.Contains(cut))
            {
                result.Add(cut);
            }
        }

        return result;
    }

    private static List<BenchBackend> Backends(BenchOptions options, TextWriter stdout)
    {
        var dispatcher = DeviceDispatcher.Shared;
        var devices = new List<DeviceInfo>();
        if (options.Devices is { } requested)
        {
            foreach (var request in requested)
            {
                DeviceSelection selection;
                try
                {
                    selection = dispatcher.Select(request);
                }
                catch (DeviceUnavailableException ex)
                {
                    throw new UsageException($"--device: {CommandEdge.OneLine(ex.Message)}", ex);
                }

                if (!devices.Contains(selection.Device))
                {
                    devices.Add(selection.Device);
                }
            }
        }
        else
        {
            foreach (var device in dispatcher.Devices)
            {
                if (device.Kind == DeviceKind.Cpu && !options.AllDevices)
                {
                    stdout.WriteLine($"note: {device.Request} ({device.Name}) is left out: 20-1000x slower than host; '--device cpu' or '--device all' adds it");
                    continue;
                }

                try
                {
                    devices.Add(dispatcher.Select(device.Request).Device);
                }
                catch (DeviceUnavailableException ex)
                {
                    stdout.WriteLine($"skipped {device.Request}: {CommandEdge.OneLine(ex.Message)}");
                }
            }
        }

        var backends = new List<BenchBackend>();
        foreach (var device in devices)
        {
            var kernels = device.Kind == DeviceKind.Host ? null : dispatcher.KernelsFor(device.Request);
            if (device.Kind != DeviceKind.Host && kernels is null)
            {
                stdout.WriteLine($"skipped {device.Request}: no ILGPU kernels for it");
                continue;
            }

            var shapes = ShapesFor(options.Shapes, device, out var capped);
            if (capped.Count > 0)
            {
                stdout.WriteLine(
                    $"note: {device.Request} ({device.Name}) runs every GPU thread as an OS thread, 20-1000x slower than host: " +
                    $"shapes capped at {CpuAcceleratorMaxRows} rows ({string.Join(", ", capped)})");
            }

            backends.Add(new BenchBackend(device, kernels, shapes));
        }

        return backends;
    }

    private static void WriteTable(TextWriter stdout, List<BenchResult> results)
    {
        var table = new TextTable("backend", "device", "dtype", "shape", "x from", "median us", "GB/s", "copy GB/s", "% of copy");
        foreach (var r in results)
        {
            table.Add(
                r.Backend,
                r.Device,
                ElementTypes.ShortName(r.Type),
                r.Shape.ToString(),
                r.Data == "memory" ? $"memory ({r.BufferSets} sets)" : r.Data,
                FormatMicroseconds(r.MedianSeconds * 1e6),
                FormatGbps(r.Gbps),
                FormatGbps(r.Copy.Gbps),
                FormatPercent(r.PercentOfCopy));
        }

        table.WriteTo(stdout);
    }

    private static void WriteNotes(TextWriter stdout, List<BenchResult> results)
    {
        stdout.WriteLine("GB/s: bytes per call / median time, 10^9 B/s; bytes = x read + w read + y written.");
        stdout.WriteLine("copy GB/s: x's bytes read + y's bytes written, in this run, on the same buffers; % of copy compares the two GB/s.");
        if (results.FirstOrDefault(r => r.Copy.Threads is not null) is { } host)
        {
            stdout.WriteLine(
                $"host copy: the better of Span.CopyTo on 1 thread and Parallel.For over {host.Copy.Threads} contiguous parts " +
                "(both in the JSON), timed for each cell in alternation with its calls; host calls go through RmsNorm.Compute (validation and dispatch included).");
            string l3 = DevicesCommand.FormatBytes(CachePolicy.LastLevelCache) + (CachePolicy.DetectedLastLevelCache is null ? " (assumed)" : string.Empty);
            stdout.WriteLine(
                $"x from: cache = one buffer set, cache-hot; memory = rotating sets holding at least max(4 x L3, 512 MiB) (L3 {l3}), so x comes from memory.");
        }

        if (results.Any(r => r.Data == "device"))
        {
            stdout.WriteLine("device: data device-resident, kernel only (RmsNormKernels.Compute + stream synchronize); copy = ArrayView.CopyTo on the device, synchronized.");
        }
    }

    private static string FormatMicroseconds(double us) =>
        us.ToString(us < 10 ? "0.000" : us < 1000 ? "0.0" : "0", CultureInfo.InvariantCulture);

    private static string FormatGbps(double gbps) =>
        gbps.ToString(gbps >= 10 ? "0.0" : gbps >= 0.1 ? "0.00" : "G3", CultureInfo.InvariantCulture);

    private static string FormatPercent(double percent) =>
        percent.ToString(percent >= 10 ? "0" : percent >= 0.1 ? "0.0" : "G2", CultureInfo.InvariantCulture) + "%";
}
