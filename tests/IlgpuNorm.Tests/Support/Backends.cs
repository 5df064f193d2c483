using Xunit;

namespace IlgpuNorm.Tests.Support;

/// <summary>
/// The backends every behaviour is tested on: the host path and ILGPU's CPU accelerator always
/// (never skipped), plus every CUDA and OpenCL device the dispatcher finds.
/// </summary>
internal static class Backends
{
    private static readonly Lazy<string[]> Present = new(() =>
    {
        var names = new List<string> { "host", "cpu" };
        foreach (var device in DeviceDispatcher.Shared.Devices)
        {
            if (device.Kind is DeviceKind.Cuda or DeviceKind.OpenCL)
            {
                names.Add(device.Request.ToString() + (device.Index == 0 ? ":0" : string.Empty));
            }
        }

        return [.. names.Distinct()];
    });

    public static IEnumerable<string> Names => Present.Value;

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (string name in Present.Value)
        {
            data.Add(name);
        }

        return data;
    }

    public static RmsNormOptions Options(string backend, double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1) =>
        new() { Device = DeviceRequest.Parse(backend), Epsilon = epsilon, NumGroups = numGroups };

    /// <summary>The CPU accelerator runs one OS thread per GPU thread: keep its batches small.</summary>
    public static bool IsSlow(string backend) => backend.StartsWith("cpu", StringComparison.Ordinal);
}
