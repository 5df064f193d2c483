namespace IlgpuNorm;

/// <summary>The backends IlgpuNorm can run on.</summary>
public enum DeviceKind
{
    /// <summary>Let the dispatcher pick the best device present (CUDA GPU, OpenCL GPU, host, OpenCL CPU, ILGPU CPU accelerator).</summary>
    Auto,

    /// <summary>The vectorized managed host path (SIMD over rows, parallel for large inputs).</summary>
    Host,

    /// <summary>ILGPU's CPU accelerator: runs the GPU kernels themselves on the CPU (slow; for tests and debugging).</summary>
    Cpu,

    /// <summary>An ILGPU OpenCL device.</summary>
    OpenCL,

    /// <summary>An ILGPU CUDA device.</summary>
    Cuda,
}
