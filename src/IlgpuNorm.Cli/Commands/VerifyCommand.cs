using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuNorm.Verification;

namespace IlgpuNorm.Cli.Commands;

/// <summary>
/// <c>ilgpunorm verify</c>: seeded random problems on every backend, each compared with the float64 reference
/// (<see cref="RmsNormReference"/>) under the tolerance policy of <see cref="Tolerance"/>. Outputs are poisoned with a sentinel before each call, so an element a
/// backend fails to write shows up as a mismatch, NaN rows included.
/// </summary>
internal static class VerifyCommand
{
    /// <summary>The poison written into every output before a call: finite, far from any result, exact in every dtype.</summary>
    private const double Sentinel = -31337.0;

    public static Command Create()
    {
        var device = new Option<string>("--device", "-d") { Description = "all (default: every backend found), or auto|host|cpu|opencl|cuda[:N]." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => VerifySettings.DefaultSeed };
        var cases = new Option<int>("--cases") { Description = "Random cases per dtype and backend (the ILGPU CPU accelerator runs a third, with fewer rows).", DefaultValueFactory = _ => VerifySettings.DefaultCases };
        var command = new Command("verify", "Check every backend against the float64 reference on seeded random data (exit 0 only if all pass).")
        {
            device, seed, cases,
        };
        command.SetAction(result => Execute(
            new VerifySettings { Device = result.GetValue(device), Seed = result.GetValue(seed), Cases = result.GetValue(cases) },
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the command.</summary>
    /// <returns>0 when every case passes, <see cref="ExitCodes.Failure"/> otherwise, <see cref="ExitCodes.Usage"/> for bad options.</returns>
    public static int Execute(VerifySettings settings, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Cases < 1)
        {
            throw new UsageException($"--cases: expected an integer >= 1; got {settings.Cases}");
        }

        var table = new TextTable("backend", "dtype", "cases", "elements", "max ulp", "tolerance", "seconds", "status");
        var failures = new List<string>();
        foreach (var request in Backends(settings.Device))
        {
            DeviceSelection selection;
            try
            {
                selection = DeviceDispatcher.Shared.Select(request);
            }
            catch (DeviceUnavailableException ex) when (settings.Device is null || settings.Device.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                stdout.WriteLine($"skipped {request}: {CommandEdge.OneLine(ex.Message)}");
                continue;
            }

            bool slow = selection.Device.Kind == DeviceKind.Cpu;
            int count = slow ? Math.Max(1, settings.Cases / 3) : settings.Cases;
            var device = selection.Device.Request;
            Verify<float>(device, ElementType.Float32, count, slow, settings.Seed, table, failures);
            Verify<Half>(device, ElementType.Float16, count, slow, settings.Seed, table, failures);
            Verify<BFloat16>(device, ElementType.BFloat16, count, slow, settings.Seed, table, failures);
            Verify<double>(device, ElementType.Float64, count, slow, settings.Seed, table, failures);
        }

        table.WriteTo(stdout);
        stdout.WriteLine("tolerance: ulp against the float64 reference at the rounding before the weight (IlgpuNorm.Verification.Tolerance); with a weight, max ulp may exceed it by the weight's rounding");
        foreach (string failure in failures)
        {
            stdout.WriteLine("FAIL " + failure);
        }

        stdout.WriteLine(failures.Count == 0 ? "verify: all passed" : $"verify: {failures.Count} failure(s)");
        return failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    });

    private static List<DeviceRequest> Backends(string? device)
    {
        if (device is null || device.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return [.. DeviceDispatcher.Shared.Devices.Select(d => d.Request)];
        }

        var request = DeviceRequest.TryParse(device, out var parsed)
            ? parsed
            : throw new UsageException($"--device: expected all|auto|host|cpu|opencl|cuda[:N]; got '{device}'");
        return [request.Kind == DeviceKind.Auto ? DeviceDispatcher.Shared.Select(request).Device.Request : request];
    }

    private static void Verify<T>(DeviceRequest device, ElementType type, int count, bool slow, int seed, TextTable table, List<string> failures)
        where T : unmanaged
    {
        var random = new Random(unchecked((seed * 31) + (int)type)); // not HashCode.Combine: it is randomized per process
        long tolerance = Tolerance.UlpBudget(type);
        long maxUlp = 0;
        long mismatches = 0;
        long elements = 0;
        string? failure = null;
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var problem in VerifyCase.Generate(random, count, slow))
            {
                T[] x = problem.Input<T>(random);
                T[] w = problem.WeightValues<T>(random);
                T[] expected = RmsNormReference.Compute<T>(x, problem.Shape, problem.NormalizedShape, w, problem.Epsilon, problem.NumGroups);
                T[] unweighted = w.Length == 0 ? expected : RmsNormReference.Compute<T>(x, problem.Shape, problem.NormalizedShape, default, problem.Epsilon, problem.NumGroups);
                T[] actual = new T[x.Length];
                elements += x.Length;
                actual.AsSpan().Fill(Elements.FromDouble<T>(Sentinel));
                var options = new RmsNormOptions { Device = device, Epsilon = problem.Epsilon, NumGroups = problem.NumGroups };
                RmsNorm.Compute<T>(x, problem.Shape, problem.NormalizedShape, w, actual, options);
                for (int i = 0; i < actual.Length; i++)
                {
                    long ulp = Ulp.Distance(actual[i], expected[i]);
                    maxUlp = Math.Max(maxUlp, ulp);
                    if (ulp <= tolerance || Tolerance.Accepts(actual[i], expected[i], unweighted[i], w.Length == 0 ? null : w[i % w.Length]))
                    {
                        continue;
                    }

                    mismatches++;
                    if (failure is null)
                    {
                        failure = string.Create(CultureInfo.InvariantCulture,
                            $"{device} {ElementTypes.ShortName(type)}: {problem}: element {i}: got {Elements.ToDouble(actual[i]):R}, expected {Elements.ToDouble(expected[i]):R} ({FormatUlp(ulp)} ulp > {tolerance})");
                    }
                }
            }
        }
#pragma warning disable CA1031 // A backend that throws fails its row; the other backends still run.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = $"{device} {ElementTypes.ShortName(type)}: threw {ex.GetType().Name}: {CommandEdge.OneLine(ex.Message)}";
        }

        table.Add(
            device.ToString(),
            ElementTypes.ShortName(type),
            count.ToString(CultureInfo.InvariantCulture),
            elements.ToString(CultureInfo.InvariantCulture),
            FormatUlp(maxUlp),
            tolerance.ToString(CultureInfo.InvariantCulture),
            clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
            failure is null ? "ok" : mismatches > 0 ? $"FAIL ({mismatches} elements)" : "FAIL");
        if (failure is not null)
        {
            failures.Add(failure);
        }
    }

    private static string FormatUlp(long ulp) => ulp == long.MaxValue ? "inf" : ulp.ToString(CultureInfo.InvariantCulture);
}
