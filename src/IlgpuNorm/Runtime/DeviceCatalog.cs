using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>
/// What a <see cref="DeviceDispatcher"/> needs from the machine: the devices there are, and a way to start one.
/// <see cref="DeviceCatalog"/> is the real one; the tests pass fakes that start failing devices.
/// </summary>
internal interface IDeviceCatalog : IDisposable
{
    /// <summary>Every device found, the host path first (so never empty), in the drivers' order (unranked).</summary>
    /// <param name="log">Reports a failure that left only some devices (enumeration never throws).</param>
    IReadOnlyList<DeviceInfo> Enumerate(Action<string> log);

    /// <summary>Starts a device that <see cref="Enumerate"/> returned (or the host path).</summary>
    /// <returns>Its backend, owned by the caller.</returns>
    /// <exception cref="Exception">Anything the driver throws: the dispatcher reports it and falls back.</exception>
    IComputeBackend Start(DeviceInfo device);
}

/// <summary>
/// The devices of this machine through ILGPU: one context (created on first use, after
/// <see cref="NativeDrivers.EnsureResolver"/>), the CUDA, OpenCL and CPU-accelerator devices it finds, their
/// descriptions, their accelerators, what the launch plans need to know of an accelerator, and what an out-of-memory
/// failure looks like. The only code that names ILGPU's CUDA and OpenCL types.
/// </summary>
internal sealed class DeviceCatalog(CPUDevice cpuDevice) : IDeviceCatalog
{
    private Context? context;

    public IReadOnlyList<DeviceInfo> Enumerate(Action<string> log)
    {
        var found = new List<DeviceInfo> { HostBackend.Description };
        try
        {
            var ctx = GetContext();
            Add(found, ctx.GetCudaDevices());
            Add(found, ctx.GetCLDevices());
            Add(found, ctx.GetCPUDevices());
        }
#pragma warning disable CA1031 // Enumeration failures leave the host path; they are reported.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            log($"device enumeration failed, only the host path is available: {ex.GetType().Name}: {ex.Message}");
        }

        return found;
    }

    public IComputeBackend Start(DeviceInfo device)
    {
        if (device.Kind == DeviceKind.Host)
        {
            return new HostBackend();
        }

        var ctx = GetContext();
        Device ilgpuDevice = device.Kind switch
        {
            DeviceKind.Cuda => ctx.GetCudaDevices()[device.Index],
            DeviceKind.OpenCL => ctx.GetCLDevices()[device.Index],
            _ => ctx.GetCPUDevices()[device.Index],
        };
        return new IlgpuBackend(device, ilgpuDevice.CreateAccelerator(ctx));
    }

    /// <summary>
    /// An accelerator's limits for the launch plans. ILGPU's CPU accelerator and OpenCL CPU devices (PoCL) count as CPU-like:
    /// a work-group runs on one core, so they get few threads per row, many elements per thread and one group per core (on
    /// PoCL, [4096, 4096] float32 went from 4.2 to 5.9 GB/s against the GPU plan).
    /// </summary>
    public static DeviceLimits Limits(Accelerator accelerator) => new(
        accelerator.MaxNumThreadsPerGroup,
        accelerator.WarpSize,
        accelerator.NumMultiprocessors,
        accelerator.MaxNumThreadsPerMultiprocessor,
        accelerator is CPUAccelerator || (accelerator is CLAccelerator cl && cl.DeviceType.HasFlag(CLDeviceType.CL_DEVICE_TYPE_CPU)))
    {
        // Warp shuffles in the sum trees on CUDA only; OpenCL and the CPU accelerator keep shared memory.
        HasWarpShuffle = accelerator.AcceleratorType == AcceleratorType.Cuda,
    };

    /// <summary>Whether an exception from a device allocation means the device ran out of memory.</summary>
    public static bool IsOutOfMemory(Exception ex) => ex switch
    {
        OutOfMemoryException => true,
        CudaException cuda => cuda.Error == nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY)
            || cuda.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase),
        CLException cl => cl.Error is CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE or CLError.CL_OUT_OF_RESOURCES
            or CLError.CL_OUT_OF_HOST_MEMORY or CLError.CL_INVALID_BUFFER_SIZE,
        _ => false,
    };

    /// <summary>Disposes the ILGPU context (after the dispatcher disposed the accelerators). Idempotent.</summary>
    public void Dispose()
    {
        context?.Dispose();
        context = null;
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

    private static void Add<TDevice>(List<DeviceInfo> found, Context.DeviceCollection<TDevice> devices)
        where TDevice : Device
    {
        for (int i = 0; i < devices.Count; i++)
        {
            found.Add(Describe(devices[i], i));
        }
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
}
