namespace IlgpuNorm.Runtime;

/// <summary>
/// What a <see cref="DeviceDispatcher"/> needs from the machine: the devices there are, and a way to start one.
/// <see cref="DeviceCatalog"/> is the real one; the tests pass fakes that start failing devices.
/// </summary>
internal interface IDeviceCatalog : IDisposable
{
    /// <summary>Every device found, the host path first, in the drivers' order (unranked).</summary>
    /// <param name="log">Reports a failure that left only some devices (enumeration never throws).</param>
    /// <returns>The devices found; at least the host path.</returns>
    IReadOnlyList<DeviceInfo> Enumerate(Action<string> log);

    /// <summary>Starts a device that <see cref="Enumerate"/> returned (or the host path).</summary>
    /// <returns>Its backend, owned by the caller.</returns>
    /// <exception cref="Exception">Anything the driver throws: the dispatcher reports it and falls back.</exception>
    IComputeBackend Start(DeviceInfo device);
}
