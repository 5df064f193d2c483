using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuNorm.Runtime;

/// <summary>The staging allocations of an <see cref="IlgpuBackend"/>: out-of-memory reported with the sizes, nothing kept after a failure.</summary>
internal sealed partial class IlgpuBackend
{
    /// <summary>Replaces the device allocation of the staging buffers (bytes → buffer): the seam the tests inject faults through.</summary>
    internal Func<long, MemoryBuffer1D<byte, Stride1D.Dense>>? StagingAllocator { get; set; }

    /// <summary>The bytes held by the staging buffers on the device now (0 after a failed allocation or dispose).</summary>
    internal long StagedBytes
    {
        get
        {
            using (kernels.Gate.EnterScope())
            {
                return HeldBytes();
            }
        }
    }

    /// <summary>Whether an exception from a device allocation means the device ran out of memory.</summary>
    internal static bool IsOutOfMemory(Exception ex) => ex switch
    {
        OutOfMemoryException => true,
        CudaException cuda => cuda.Error == nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY)
            || cuda.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase),
        CLException cl => cl.Error is CLError.CL_MEM_OBJECT_ALLOCATION_FAILURE or CLError.CL_OUT_OF_RESOURCES
            or CLError.CL_OUT_OF_HOST_MEMORY or CLError.CL_INVALID_BUFFER_SIZE,
        _ => false,
    };

    /// <summary>
    /// Allocates a staging buffer (called in the kernels' scope, with the buffer being replaced already freed). When the device
    /// is out of memory, the copies this call queued are drained, every staging buffer is freed (a later call starts from
    /// nothing) and the failure is reported as an <see cref="InsufficientMemoryException"/> naming the request, the device and
    /// the device's memory.
    /// </summary>
    private MemoryBuffer1D<byte, Stride1D.Dense> AllocateStaging(long bytes)
    {
        try
        {
            return StagingAllocator?.Invoke(bytes) ?? accelerator.Allocate1D<byte>(bytes);
        }
        catch (Exception ex) when (IsOutOfMemory(ex))
        {
            long held = HeldBytes();
            Drain();
            ReleaseStaging();
            throw new InsufficientMemoryException(
                $"Out of device memory: could not allocate a staging buffer of {bytes} bytes ({Format(bytes)}) on {Info} " +
                $"(device memory {(Info.MemoryBytes > 0 && Info.MemoryBytes != long.MaxValue ? $"{Info.MemoryBytes} bytes ({Format(Info.MemoryBytes)})" : "not reported")}; " +
                $"this backend held {held} bytes of staging buffers, now freed). Split the batch into smaller calls. Cause: {ex.GetType().Name}: {ex.Message}",
                ex);
        }
    }

    private long HeldBytes() => stages.Sum(buffer => buffer is { IsDisposed: false } ? buffer.LengthInBytes : 0);

    private void ReleaseStaging()
    {
        for (int i = 0; i < stages.Length; i++)
        {
            stages[i]?.Dispose();
            stages[i] = null;
        }
    }

    private static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.##} KiB",
        _ => $"{bytes} B",
    };
}
