namespace IlgpuNorm;

/// <summary>
/// The dispatcher's policy, as a pure function: CUDA GPU, then OpenCL GPU, then the host path,
/// then OpenCL CPU devices, then ILGPU's CPU accelerator; ties keep the driver's order.
/// </summary>
public static class DeviceRanking
{
    /// <summary>The rank tier of a device (lower is better).</summary>
    /// <param name="device">The device.</param>
    /// <returns>0 for CUDA, 1 for an OpenCL GPU, 2 for the host path, 3 for an OpenCL CPU, 4 for the ILGPU CPU accelerator.</returns>
    public static int Tier(DeviceInfo device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Kind switch
        {
            DeviceKind.Cuda => 0,
            DeviceKind.OpenCL when device.IsGpu => 1,
            DeviceKind.Host => 2,
            DeviceKind.OpenCL => 3,
            _ => 4,
        };
    }

    /// <summary>Orders devices best first.</summary>
    /// <param name="devices">The devices found.</param>
    /// <returns>The devices, best first.</returns>
    public static IReadOnlyList<DeviceInfo> Rank(IEnumerable<DeviceInfo> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        return [.. devices.OrderBy(Tier).ThenBy(d => d.Index)];
    }

    /// <summary>Why a device sits where it does, in words.</summary>
    /// <param name="device">The device.</param>
    /// <returns>A short reason.</returns>
    public static string Reason(DeviceInfo device) => Tier(device) switch
    {
        0 => "a CUDA GPU ranks first",
        1 => "an OpenCL GPU ranks after CUDA GPUs",
        2 => "no GPU answered: the vectorized host path beats OpenCL CPU devices and the ILGPU CPU accelerator",
        3 => "an OpenCL CPU device ranks after the host path",
        _ => "the ILGPU CPU accelerator runs the kernels on simulated threads: correct but slow, ranked last",
    };
}
