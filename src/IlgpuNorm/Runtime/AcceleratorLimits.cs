using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>Reads an accelerator's <see cref="DeviceLimits"/> for the launch plans (one place for every kernel set).</summary>
internal static class AcceleratorLimits
{
    /// <summary>
    /// The accelerator's limits. ILGPU's CPU accelerator and OpenCL CPU devices (PoCL) count as CPU-like: a work-group
    /// runs on one core, so they get few threads per row, many elements per thread and one group per core (on PoCL,
    /// [4096, 4096] float32 went from 4.2 to 5.9 GB/s against the GPU plan).
    /// </summary>
    public static DeviceLimits Of(Accelerator accelerator) => new(
        accelerator.MaxNumThreadsPerGroup,
        accelerator.WarpSize,
        accelerator.NumMultiprocessors,
        accelerator.MaxNumThreadsPerMultiprocessor,
        accelerator is CPUAccelerator || (accelerator is CLAccelerator cl && cl.DeviceType.HasFlag(CLDeviceType.CL_DEVICE_TYPE_CPU)))
    {
        // Warp shuffles in the sum trees on CUDA only; OpenCL and the CPU accelerator keep shared memory.
        HasWarpShuffle = accelerator.AcceleratorType == AcceleratorType.Cuda,
    };
}
