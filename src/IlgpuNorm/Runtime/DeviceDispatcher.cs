using System.Collections.Concurrent;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// Ranks the devices of this machine with <see cref="DeviceRanking"/> and hands out one lazily started backend per
/// device, falling back past devices that fail. <see cref="Shared"/> serves <see cref="RmsNorm"/>.
/// </summary>
/// <remarks>
/// Thread-safe: enumeration and backend creation happen once under a lock; each backend serializes
/// its own launches. In <see cref="DeviceKind.Auto"/> mode a device that fails to start is skipped and
/// the next one is tried; the reason is logged (<see cref="Message"/>, <see cref="Messages"/>). A device
/// requested by name that cannot start is an error.
/// </remarks>
public sealed class DeviceDispatcher : IDisposable
{
    private static readonly Lazy<DeviceDispatcher> SharedInstance = new(() => new DeviceDispatcher());

    private readonly Lock gate = new();
    private readonly ConcurrentQueue<string> messages = new();
    private readonly Dictionary<DeviceRequest, (IComputeBackend? Backend, string? Error)> started = []; // a request starts once: its backend, or why not
    private readonly Dictionary<(DeviceRequest Request, bool FromEnvironment), Resolution> resolved = []; // auto: FromEnvironment false
    private readonly IDeviceCatalog catalog;
    private readonly Func<string?> environment;
    private DeviceRequest? environmentRequest;
    private IReadOnlyList<DeviceInfo>? devices;
    private bool disposed;

    /// <summary>
    /// The last resolution of each request kind (slot 0: no request, the environment's or auto), read without the lock:
    /// a call that repeats a request, as nearly every call does, skips the lock and the dictionary (40 of the ~200 ns a
    /// 16-element host call took). Written under the lock; cleared with <see cref="resolved"/>'s entries (demotion,
    /// disposal).
    /// </summary>
    private readonly Recent?[] recent = new Recent?[Enum.GetValues<DeviceKind>().Length + 1];

    /// <summary>Creates a dispatcher over this machine's devices.</summary>
    /// <param name="cpuDevice">The simulated device for ILGPU's CPU accelerator; by default 4-thread warps, 8 warps per group, one multiprocessor per core.</param>
    public DeviceDispatcher(CPUDevice? cpuDevice = null)
        : this(
            new DeviceCatalog(cpuDevice ?? new CPUDevice(
                numThreadsPerWarp: 4,
                numWarpsPerMultiprocessor: 8,
                numMultiprocessors: Math.Max(1, Environment.ProcessorCount))),
            static () => Environment.GetEnvironmentVariable(DeviceRequest.EnvironmentVariable))
    {
    }

    /// <summary>A dispatcher over a catalog of devices (the tests pass fakes that fail) and a source of <c>ILGPUNORM_DEVICE</c>.</summary>
    /// <param name="catalog">The devices and how to start them; disposed with the dispatcher.</param>
    /// <param name="environment">Reads the environment variable (once, on the first call that needs it).</param>
    internal DeviceDispatcher(IDeviceCatalog catalog, Func<string?> environment)
    {
        this.catalog = catalog;
        this.environment = environment;
    }

    /// <summary>The process-wide dispatcher used by <see cref="RmsNorm"/>.</summary>
    public static DeviceDispatcher Shared => SharedInstance.Value;

    /// <summary>Raised with each line of what the dispatcher did and why.</summary>
    public event EventHandler<string>? Message;

    /// <summary>What the dispatcher did and why, oldest first (the last 256 lines).</summary>
    public IReadOnlyList<string> Messages => [.. messages];

    /// <summary>Every device found, best first. Enumerates CUDA and OpenCL drivers on first use.</summary>
    public IReadOnlyList<DeviceInfo> Devices
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                return FoundDevices();
            }
        }
    }

    /// <summary>
    /// Resolves a request to a device: an explicit request, else the <c>ILGPUNORM_DEVICE</c> environment
    /// variable (read once, on the first call that needs it), else the best device that starts.
    /// </summary>
    /// <param name="request">The request, or null for the environment variable / auto.</param>
    /// <returns>The device and why it was chosen.</returns>
    /// <exception cref="DeviceUnavailableException">The requested device does not exist or failed to start.</exception>
    /// <exception cref="InvalidOperationException">The environment variable holds an invalid value.</exception>
    public DeviceSelection Select(DeviceRequest? request = null) => Resolve(request).Selection;

    /// <summary>
    /// Runs an operation on its arguments (usually a ref struct of spans) on the device <paramref name="request"/> resolves
    /// to, with the same fallback as the forward pass: in auto mode a non-host device that throws (other than an
    /// <see cref="ArgumentException"/>) is demoted and the operation runs again on the next device. The operation must
    /// write the caller's outputs only once it has succeeded.
    /// </summary>
    internal void Execute<TCall>(DeviceRequest? request, ref TCall call, BackendOperation<TCall> operation)
        where TCall : allows ref struct
    {
        while (true)
        {
            var resolution = Resolve(request);
            try
            {
                operation(resolution.Backend, ref call);
                return;
            }
            catch (InsufficientMemoryException ex) when (resolution.FallsBack)
            {
                // Too big for this device's free memory: this call runs on the host, and the device stays chosen
                // (one oversized batch must not move every later call off the GPU).
                IComputeBackend host;
                lock (gate)
                {
                    host = GetOrCreate(DeviceRequest.Host, out string? error)
                        ?? throw new DeviceUnavailableException($"{resolution.Backend.Info} ran out of memory and the host is not available: {error}", ex);
                }

                Log($"auto: {resolution.Backend.Info} has too little memory for this call ({ex.GetType().Name}: {ex.Message}); this call runs on {host.Info}, the device stays in use");
                operation(host, ref call);
                return;
            }
            catch (Exception ex) when (resolution.FallsBack && ex is not ArgumentException)
            {
                Demote(resolution.Backend, ex);
            }
        }
    }

    /// <summary>
    /// The ILGPU kernels (and through <see cref="KernelSet.Accelerator"/> the accelerator) of the device a request
    /// resolves to, for device-resident work on the dispatcher's own accelerator: the same one <see cref="RmsNorm"/>
    /// uses, started once. The dispatcher owns them: do not dispose them.
    /// </summary>
    /// <param name="request">Which device; null for the environment variable / auto.</param>
    /// <returns>The kernels, or null when the request resolves to the host path.</returns>
    /// <exception cref="DeviceUnavailableException">The requested device does not exist or failed to start.</exception>
    /// <exception cref="ObjectDisposedException">The dispatcher was disposed.</exception>
    public RmsNormKernels? KernelsFor(DeviceRequest? request) => (Resolve(request).Backend as IlgpuBackend)?.Kernels;

    /// <summary>The request a value of <see cref="DeviceRequest.EnvironmentVariable"/> stands for (null, empty or blank: auto).</summary>
    /// <exception cref="InvalidOperationException">The value is not a device request; the message names the variable and the value.</exception>
    internal static DeviceRequest ParseEnvironment(string? value) =>
        string.IsNullOrWhiteSpace(value) ? DeviceRequest.Auto
        : DeviceRequest.TryParse(value, out var parsed) ? parsed
        : throw new InvalidOperationException(
            $"Environment variable {DeviceRequest.EnvironmentVariable} must be auto|host|cpu|opencl|cuda[:N]; got '{value}'.");

    internal Resolution Resolve(DeviceRequest? request)
    {
        int slot = request is { } given ? (int)given.Kind + 1 : 0;
        if ((uint)slot < (uint)recent.Length && Volatile.Read(ref recent[slot]) is { } last && last.Request == request && !Volatile.Read(ref disposed))
        {
            return last.Resolution;
        }

        lock (gate)
        {
            var resolution = ResolveLocked(request);
            if ((uint)slot < (uint)recent.Length)
            {
                Volatile.Write(ref recent[slot], new Recent(request, resolution));
            }

            return resolution;
        }
    }

    /// <summary>The resolution under the lock: a resolved request from <see cref="resolved"/>, else the device started now.</summary>
    private Resolution ResolveLocked(DeviceRequest? request)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var effective = request ?? (environmentRequest ??= ParseEnvironment(environment()));
        bool auto = effective.Kind == DeviceKind.Auto;
        var key = (effective, !auto && request is null);
        if (resolved.TryGetValue(key, out var hit))
        {
            return hit;
        }

        if (!auto)
        {
            string source = request is null ? $"{DeviceRequest.EnvironmentVariable}={effective}" : $"requested {effective}";
            var backend = GetOrCreate(effective, out string? error)
                ?? throw new DeviceUnavailableException($"Device '{effective}' ({source}) is not available: {error}");
            return resolved[key] = new Resolution(backend, new DeviceSelection(backend.Info, source), FallsBack: false);
        }

        var skipped = new List<string>();
        foreach (var device in FoundDevices())
        {
            var backend = GetOrCreate(device.Request, out string? error);
            if (backend is null)
            {
                skipped.Add($"{device.Request}: {error}");
                Log($"auto: skipped {device}: {error}");
                continue;
            }

            string reason = DeviceRanking.Reason(device) + (skipped.Count > 0 ? $" (fell back past {string.Join("; ", skipped)})" : string.Empty);
            Log($"auto: chose {device}: {reason}");
            return resolved[key] = new Resolution(backend, new DeviceSelection(backend.Info, reason), FallsBack: device.Kind != DeviceKind.Host);
        }

        throw new DeviceUnavailableException("No device started: " + string.Join("; ", skipped));
    }

    /// <summary>Disposes every accelerator and the ILGPU context. Idempotent.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            Volatile.Write(ref disposed, true);
            Array.Clear(recent);
            foreach (var (backend, _) in started.Values)
            {
                backend?.Dispose();
            }

            started.Clear();
            resolved.Clear();
            catalog.Dispose();
        }
    }

    /// <summary>Drops a device that failed during a call: remembered as failed, never tried again by this dispatcher.</summary>
    private void Demote(IComputeBackend backend, Exception ex)
    {
        string error = $"failed during a call: {ex.GetType().Name}: {ex.Message}";
        lock (gate)
        {
            started[backend.Info.Request] = (null, error); // its only backend: a failed request is never started again

            foreach (var key in resolved.Where(entry => ReferenceEquals(entry.Value.Backend, backend)).Select(entry => entry.Key).ToList())
            {
                resolved.Remove(key);
            }

            Array.Clear(recent); // a reader that took the demoted resolution just before fails once more and comes back here
            Log($"auto: dropped {backend.Info}: {error}");
        }

        backend.Dispose();
    }

    private IReadOnlyList<DeviceInfo> FoundDevices() => devices ??= DeviceRanking.Rank(catalog.Enumerate(Log));

    private IComputeBackend? GetOrCreate(DeviceRequest request, out string? error)
    {
        error = null;
        if (started.TryGetValue(request, out var known))
        {
            error = known.Error;
            return known.Backend;
        }

        // The host path needs no enumeration: ILGPUNORM_DEVICE=host never loads a driver.
        var device = request.Kind == DeviceKind.Host ? HostBackend.Description : FoundDevices().FirstOrDefault(d => d.Request == request);
        if (device is null)
        {
            error = $"no {request.Kind} device with index {request.Index} was found (found: {string.Join(", ", FoundDevices().Select(d => d.Request))})";
            started[request] = (null, error);
            return null;
        }

        try
        {
            var backend = catalog.Start(device);
            if (request.Kind != DeviceKind.Host)
            {
                Log($"started {backend.Info}");
            }

            started[request] = (backend, null);
            return backend;
        }
#pragma warning disable CA1031 // A driver can fail in any way; the dispatcher reports it and falls back.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = $"{ex.GetType().Name}: {ex.Message}";
            started[request] = (null, error);
            Log($"failed to start {request}: {error}");
            return null;
        }
    }

    private void Log(string line)
    {
        messages.Enqueue(line);
        while (messages.Count > 256)
        {
            messages.TryDequeue(out _);
        }

        Message?.Invoke(this, line);
    }

    /// <summary>A resolved device: the backend, why it was chosen, and whether a failure on it falls back (auto mode chose a device other than the host).</summary>
    internal readonly record struct Resolution(IComputeBackend Backend, DeviceSelection Selection, bool FallsBack);

    /// <summary>A request and what it resolved to (<see cref="recent"/>): one reference, so a reader never sees half of it.</summary>
    private sealed record Recent(DeviceRequest? Request, Resolution Resolution);
}
