using Xunit;

namespace IlgpuNorm.Tests.Support;

/// <summary>
/// The backends every behaviour is tested on: the host path and ILGPU's CPU accelerator always
/// (never skipped), plus every CUDA and OpenCL device the dispatcher finds.
/// </summary>
/// <remarks>
/// A CUDA or OpenCL device that is absent is skipped silently, unless <see cref="RequireVariable"/> names it:
/// then building the list throws, every test that runs on the backends fails, and so does
/// <c>RequiredBackendsTests</c>. CI sets <c>ILGPUNORM_REQUIRE_BACKENDS=opencl</c> for its PoCL run.
/// </remarks>
internal static class Backends
{
    /// <summary>A comma list of backends that must be present, such as <c>opencl</c> or <c>opencl:1,cuda</c>.</summary>
    public const string RequireVariable = "ILGPUNORM_REQUIRE_BACKENDS";

    private static readonly string[] Kinds = ["host", "cpu", "opencl", "cuda"];

    private static readonly Lazy<(string Name, string Description)[]> Found = new(() =>
    {
        var found = new List<(string Name, string Description)>
        {
            ("host", "host path (SIMD)"),
            ("cpu", "ILGPU CPU accelerator"),
        };
        foreach (var device in DeviceDispatcher.Shared.Devices)
        {
            if (device.Kind is DeviceKind.Cuda or DeviceKind.OpenCL)
            {
                string name = device.Request.ToString() + (device.Index == 0 ? ":0" : string.Empty);
                if (!found.Exists(f => f.Name == name))
                {
                    found.Add((name, $"{device.Name} ({device.Detail})"));
                }
            }
        }

        Require(Environment.GetEnvironmentVariable(RequireVariable), [.. found.Select(f => f.Name)], () => string.Join("; ", DeviceDispatcher.Shared.Messages));
        return [.. found];
    });

    public static IEnumerable<string> Names => Found.Value.Select(f => f.Name);

    /// <summary>One line per backend: its test name and the device behind it.</summary>
    public static IEnumerable<string> Descriptions => Found.Value.Select(f => $"{f.Name} = {f.Description}");

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (string name in Names)
        {
            data.Add(name);
        }

        return data;
    }

    public static RmsNormOptions Options(string backend, double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1) =>
        new() { Device = DeviceRequest.Parse(backend), Epsilon = epsilon, NumGroups = numGroups };

    /// <summary>The CPU accelerator runs one OS thread per GPU thread: keep its batches small.</summary>
    public static bool IsSlow(string backend) => backend.StartsWith("cpu", StringComparison.Ordinal);

    /// <summary>
    /// The entries of a requirement list (<c>opencl</c>, <c>cuda:1</c>, …; case and spaces ignored) that no present
    /// backend satisfies: a bare kind is met by any device of that kind, <c>kind:N</c> only by that device.
    /// </summary>
    /// <exception cref="ArgumentException">An entry is not host, cpu, opencl or cuda, optionally with :N.</exception>
    internal static IReadOnlyList<string> Missing(string? required, IReadOnlyCollection<string> present)
    {
        var missing = new List<string>();
        foreach (string raw in (required ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string entry = raw.ToLowerInvariant();
            string[] parts = entry.Split(':');
            bool valid = Array.IndexOf(Kinds, parts[0]) >= 0 &&
                (parts.Length == 1 || (parts.Length == 2 && parts[1].Length > 0 && parts[1].All(char.IsAsciiDigit)));
            if (!valid)
            {
                throw new ArgumentException(
                    $"{RequireVariable} must be a comma list of host, cpu, opencl or cuda, each optionally followed by :N; got '{raw}'.",
                    nameof(required));
            }

            bool met = parts.Length == 1
                ? present.Any(p => p == entry || p.StartsWith(entry + ":", StringComparison.Ordinal))
                : present.Contains(entry) || (parts[1] == "0" && present.Contains(parts[0]));
            if (!met)
            {
                missing.Add(entry);
            }
        }

        return missing;
    }

    /// <summary>Throws when a required backend is missing, naming it, the backends present and the dispatcher's log.</summary>
    /// <exception cref="InvalidOperationException">A required backend is missing.</exception>
    internal static void Require(string? required, IReadOnlyCollection<string> present, Func<string> dispatcherLog)
    {
        var missing = Missing(required, present);
        if (missing.Count > 0)
        {
            string log = dispatcherLog();
            throw new InvalidOperationException(
                $"{RequireVariable}={required} requires {string.Join(", ", missing)}, but the backends present are {string.Join(", ", present)}. " +
                "For OpenCL, ILGPU needs the ICD loader (libOpenCL.so) and a driver registered in /etc/OpenCL/vendors. " +
                $"Dispatcher: {(log.Length > 0 ? log : "nothing logged")}.");
        }
    }
}
