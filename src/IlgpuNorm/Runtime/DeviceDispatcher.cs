using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuNorm;

/// <summary>
/// Finds the devices of this machine, ranks them with <see cref="DeviceRanking"/>, and hands out one
/// lazily created backend per device. <see cref="Shared"/> serves <see cref="RmsNorm"/>.
/// </summary>
/// <remarks>
/// Thread-safe: enumeration and backend creation happen once under a lock; each backend serializes
/// its own launches. In <see cref="DeviceKind.Auto"/> mode a device that fails to start is skipped and
/// the next one is tried; the reason is logged (<see cref="Message"/>, <see cref="Messages"/>). A device
/// requested by name that cannot start is an error.
/// </remarks>
public sealed partial class DeviceDispatcher : IDisposable
{
    private static readonly Lazy<DeviceDispatcher> SharedInstance = new(() => new DeviceDispatcher());

    private readonly Lock gate = new();
    private readonly ConcurrentQueue<string> messages = new();
    private readonly Dictionary<DeviceRequest, IComputeBackend> backends = [];
    private readonly Dictionary<DeviceRequest, string> failures = [];
    private readonly Dictionary<(DeviceRequest Request, bool FromEnvironment), Resolution> resolved = [];
    private DeviceRequest? environmentRequest;
    private readonly CPUDevice cpuDevice;
    private readonly Func<DeviceInfo, IComputeBackend>? factory;
    private readonly Func<string, string?> environment;
    private Context? context;
    private IReadOnlyList<DeviceInfo>? devices;
    private DeviceSelection? autoSelection;
    private bool disposed;

    /// <summary>Creates a dispatcher.</summary>
    /// <param name="cpuDevice">The simulated device for ILGPU's CPU accelerator; by default 4-thread warps, 8 warps per group, one multiprocessor per core.</param>
    public DeviceDispatcher(CPUDevice? cpuDevice = null)
    {
        this.cpuDevice = cpuDevice ?? new CPUDevice(
            numThreadsPerWarp: 4,
            numWarpsPerMultiprocessor: 8,
            numMultiprocessors: Math.Max(1, Environment.ProcessorCount));
        environment = Environment.GetEnvironmentVariable;
    }

    /// <summary>A dispatcher over given devices and a backend factory: the seam the tests inject faults through.</summary>
    internal DeviceDispatcher(IReadOnlyList<DeviceInfo> devices, Func<DeviceInfo, IComputeBackend> factory, Func<string, string?> environment)
        : this()
    {
        this.devices = DeviceRanking.Rank(devices);
        this.factory = factory;
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
                return devices ??= DeviceRanking.Rank(Enumerate());
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
    /// Runs any operation on the resolved device with the same fallback as the forward pass: in auto mode a
    /// non-host device that throws (other than an <see cref="ArgumentException"/>) is demoted and the operation
    /// runs again on the next device. The operation must write the caller's outputs only once it has succeeded.
    /// </summary>
    /// <typeparam name="TCall">The operation's arguments (usually a ref struct of spans).</typeparam>
    /// <param name="request">Which device; null for the environment variable / auto.</param>
    /// <param name="call">The operation's arguments.</param>
    /// <param name="operation">The operation.</param>
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
            catch (InsufficientMemoryException ex) when (resolution.IsAuto && resolution.Backend.Info.Kind != DeviceKind.Host)
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
            catch (Exception ex) when (resolution.IsAuto && resolution.Backend.Info.Kind != DeviceKind.Host && ex is not ArgumentException)
            {
                Demote(resolution.Backend, ex);
            }
        }
    }

    /// <summary>The ILGPU kernels of a device (for the CUDA, OpenCL and CPU accelerator backends).</summary>
    /// <param name="request">Which device.</param>
    /// <returns>The kernels, or null for the host path.</returns>
    internal RmsNormKernels? KernelsFor(DeviceRequest? request) => (Resolve(request).Backend as IlgpuBackend)?.Kernels;

    internal Resolution Resolve(DeviceRequest? request)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var effective = request ?? (environmentRequest ??= FromEnvironment());
            if (effective.Kind != DeviceKind.Auto)
            {
                var key = (effective, request is null);
                if (resolved.TryGetValue(key, out var hit))
                {
                    return hit;
                }

                string source = request is null ? $"{DeviceRequest.EnvironmentVariable}={effective}" : $"requested {effective}";
                var backend = GetOrCreate(effective, out string? error)
                    ?? throw new DeviceUnavailableException($"Device '{effective}' ({source}) is not available: {error}");
                return resolved[key] = new Resolution(backend, new DeviceSelection(backend.Info, source), IsAuto: false);
            }

            if (autoSelection is { } chosen && backends.TryGetValue(chosen.Device.Request, out var cached))
            {
                return new Resolution(cached, chosen, IsAuto: true);
            }

            var skipped = new List<string>();
            foreach (var device in devices ??= DeviceRanking.Rank(Enumerate()))
            {
                var backend = GetOrCreate(device.Request, out string? error);
                if (backend is null)
                {
                    skipped.Add($"{device.Request}: {error}");
                    Log($"auto: skipped {device}: {error}");
                    continue;
                }

                string reason = DeviceRanking.Reason(device) + (skipped.Count > 0 ? $" (fell back past {string.Join("; ", skipped)})" : string.Empty);
                autoSelection = new DeviceSelection(backend.Info, reason);
                Log($"auto: chose {device}: {reason}");
                return new Resolution(backend, autoSelection, IsAuto: true);
            }

            throw new DeviceUnavailableException("No device started: " + string.Join("; ", skipped));
        }
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

            disposed = true;
            foreach (var backend in backends.Values)
            {
                backend.Dispose();
            }

            backends.Clear();
            resolved.Clear();
            context?.Dispose();
            context = null;
        }
    }

    /// <summary>Drops a device that failed during a call: remembered as failed, never tried again by this dispatcher.</summary>
    private void Demote(IComputeBackend backend, Exception ex)
    {
        string error = $"failed during a call: {ex.GetType().Name}: {ex.Message}";
        var request = backend.Info.Request;
        lock (gate)
        {
            failures[request] = error;
            if (backends.TryGetValue(request, out var current) && ReferenceEquals(current, backend))
            {
                backends.Remove(request);
            }

            foreach (var key in resolved.Where(entry => ReferenceEquals(entry.Value.Backend, backend)).Select(entry => entry.Key).ToList())
            {
                resolved.Remove(key);
            }

            if (autoSelection?.Device.Request == request)
            {
                autoSelection = null;
            }

            Log($"auto: dropped {backend.Info}: {error}");
        }

        backend.Dispose();
    }

    private DeviceRequest FromEnvironment()
    {
        string? value = environment(DeviceRequest.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return DeviceRequest.Auto;
        }

        return DeviceRequest.TryParse(value, out var parsed)
            ? parsed
            : throw new InvalidOperationException(
                $"Environment variable {DeviceRequest.EnvironmentVariable} must be auto|host|cpu|opencl|cuda[:N]; got '{value}'.");
    }

    private IComputeBackend? GetOrCreate(DeviceRequest request, out string? error)
    {
        error = null;
        if (backends.TryGetValue(request, out var existing))
        {
            return existing;
        }

        if (failures.TryGetValue(request, out error))
        {
            return null;
        }

        if (request.Kind == DeviceKind.Host && factory is null)
        {
            return backends[request] = new HostBackend();
        }

        try
        {
            if (factory is not null)
            {
                var known = (devices ?? []).FirstOrDefault(d => d.Request == request);
                if (known is null)
                {
                    error = $"no {request.Kind} device with index {request.Index} was found (found: {string.Join(", ", (devices ?? []).Select(d => d.Request))})";
                    failures[request] = error;
                    return null;
                }

                return backends[request] = factory(known);
            }

            var ctx = GetContext();
            Device? device = request.Kind switch
            {
                DeviceKind.Cuda => Nth(ToList(ctx.GetCudaDevices()), request.Index),
                DeviceKind.OpenCL => Nth(ToList(ctx.GetCLDevices()), request.Index),
                DeviceKind.Cpu => Nth(ToList(ctx.GetCPUDevices()), request.Index),
                _ => null,
            };
            if (device is null)
            {
                error = $"no {request.Kind} device with index {request.Index} was found (found: {string.Join(", ", (devices ??= DeviceRanking.Rank(Enumerate())).Select(d => d.Request))})";
                failures[request] = error;
                return null;
            }

            var accelerator = device.CreateAccelerator(ctx);
            var info = Describe(device, request.Index);
            var backend = new IlgpuBackend(info, accelerator);
            Log($"started {info}");
            return backends[request] = backend;
        }
#pragma warning disable CA1031 // A driver can fail in any way; the dispatcher reports it and falls back.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = $"{ex.GetType().Name}: {ex.Message}";
            failures[request] = error;
            Log($"failed to start {request}: {error}");
            return null;
        }
    }

    private static Device? Nth<TDevice>(List<TDevice> source, int index)
        where TDevice : Device =>
        index >= 0 && index < source.Count ? source[index] : null;

    private static List<TDevice> ToList<TDevice>(Context.DeviceCollection<TDevice> collection)
        where TDevice : Device
    {
        var list = new List<TDevice>();
        foreach (var device in collection)
        {
            list.Add(device);
        }

        return list;
    }

    private Context GetContext()
    {
        if (context is null)
        {
            NativeDrivers.EnsureResolver();
            context = Context.Create(builder => builder.CPU(cpuDevice).Cuda().OpenCL().Optimize(OptimizationLevel.O2));
        }

        return context;
    }

    private List<DeviceInfo> Enumerate()
    {
        var found = new List<DeviceInfo> { HostBackend.Description };
        try
        {
            var ctx = GetContext();
            found.AddRange(ToList(ctx.GetCudaDevices()).Select((d, i) => Describe(d, i)));
            found.AddRange(ToList(ctx.GetCLDevices()).Select((d, i) => Describe(d, i)));
            found.AddRange(ToList(ctx.GetCPUDevices()).Select((d, i) => Describe(d, i)));
        }
#pragma warning disable CA1031 // Enumeration failures leave the host path; they are reported.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log($"device enumeration failed, only the host path is available: {ex.GetType().Name}: {ex.Message}");
        }

        return found;
    }

    private static DeviceInfo Describe(Device device, int index) => device switch
    {
        CudaDevice cuda => new DeviceInfo(
            DeviceKind.Cuda, index, cuda.Name, IsGpu: true, cuda.MemorySize, cuda.MaxNumThreadsPerGroup, cuda.WarpSize,
            SupportsFloat16: true, Detail: $"CUDA driver (libcuda), {cuda.Architecture}, {cuda.NumMultiprocessors} SMs, shared memory {cuda.MaxSharedMemoryPerGroup / 1024} KiB per group"),
        CLDevice cl => new DeviceInfo(
            DeviceKind.OpenCL, index, cl.Name, cl.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU, cl.MemorySize, cl.MaxNumThreadsPerGroup, cl.WarpSize,
            SupportsFloat16: cl.Capabilities.Float16,
            Detail: $"OpenCL driver (ICD loader libOpenCL), platform '{cl.PlatformName}' by {cl.VendorName}, {cl.DeviceType}, " +
                $"{cl.DeviceVersion}, OpenCL C {cl.CVersion}, sub-groups {(cl.Capabilities.SubGroups ? "yes" : "no")}, " +
                $"fp16 {(cl.Capabilities.Float16 ? "yes" : "no")}, fp64 {(cl.Capabilities.Float64 ? "yes" : "no")}, " +
                $"generic address space {(cl.Capabilities.GenericAddressSpace ? "yes" : "no")}, local memory {cl.MaxSharedMemoryPerGroup / 1024} KiB"),
        CPUDevice cpu => new DeviceInfo(
            DeviceKind.Cpu, index, "ILGPU CPU accelerator", IsGpu: false, 0, cpu.MaxNumThreadsPerGroup, cpu.WarpSize,
            SupportsFloat16: true, Detail: $"simulated: {cpu.NumMultiprocessors} multiprocessor(s), one OS thread per GPU thread"),
        _ => new DeviceInfo(DeviceKind.Cpu, index, device.Name, false, device.MemorySize, device.MaxNumThreadsPerGroup, device.WarpSize, false, "unknown ILGPU device"),
    };

    private void Log(string line)
    {
        messages.Enqueue(line);
        while (messages.Count > 256)
        {
            messages.TryDequeue(out _);
        }

        Message?.Invoke(this, line);
    }

    /// <summary>A resolved device: the backend, why it was chosen, and whether auto mode chose it.</summary>
    internal readonly record struct Resolution(IComputeBackend Backend, DeviceSelection Selection, bool IsAuto);
}
