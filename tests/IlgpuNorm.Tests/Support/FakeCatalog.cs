using IlgpuNorm.Runtime;

namespace IlgpuNorm.Tests.Support;

/// <summary>A device catalog of given devices whose backends come from a factory that may throw: the faults a driver can have, without one.</summary>
/// <param name="devices">The devices "found" (unranked; the host path among them).</param>
/// <param name="start">Starts a device, or throws as a driver would.</param>
internal sealed class FakeCatalog(IReadOnlyList<DeviceInfo> devices, Func<DeviceInfo, IComputeBackend> start) : IDeviceCatalog
{
    public bool Disposed { get; private set; }

    public IReadOnlyList<DeviceInfo> Enumerate(Action<string> log) => devices;

    public IComputeBackend Start(DeviceInfo device) => start(device);

    public void Dispose() => Disposed = true;
}
