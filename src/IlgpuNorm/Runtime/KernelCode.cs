using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Kernels;

namespace IlgpuNorm;

/// <summary>
/// The generated code of IlgpuNorm's kernels, for people who tune them: PTX is produced by ILGPU's
/// PTX backend without a GPU or a CUDA driver, OpenCL C by its OpenCL backend without an OpenCL driver.
/// </summary>
public static class KernelCode
{
    /// <summary>Generates the PTX of every dtype's kernel for a CUDA architecture.</summary>
    /// <param name="smVersion">The compute capability as major*10+minor, e.g. 80 (A100) or 90 (H100).</param>
    /// <returns>The PTX of each kernel (every dtype, scalar and vector variants).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="smVersion"/> is not one ILGPU 1.5.3 knows.</exception>
    public static IReadOnlyList<GeneratedKernel> GeneratePtx(int smVersion = 90) => Ptx(smVersion, everyOperation: false);

    /// <summary>Generates the PTX of every kernel of every operation (forward, quantized, backward) for a CUDA architecture.</summary>
    /// <param name="smVersion">The compute capability as major*10+minor, e.g. 80 (A100) or 90 (H100).</param>
    /// <returns>The PTX of each kernel; <see cref="GeneratedKernel.Operation"/> tells the operation.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="smVersion"/> is not one ILGPU 1.5.3 knows.</exception>
    public static IReadOnlyList<GeneratedKernel> GenerateAllPtx(int smVersion = 90) => Ptx(smVersion, everyOperation: true);

    /// <summary>
    /// Generates the OpenCL C of every kernel of every operation (forward, quantized, backward); the device capabilities
    /// are those of <see cref="GenerateOpenCL"/>.
    /// </summary>
    /// <param name="float16">Whether the device has cl_khr_fp16.</param>
    /// <param name="subGroups">Whether the device has sub-groups.</param>
    /// <returns>The OpenCL C of each kernel; <see cref="GeneratedKernel.Operation"/> tells the operation.</returns>
    public static IReadOnlyList<GeneratedKernel> GenerateAllOpenCL(bool float16 = false, bool subGroups = false) => OpenCL(float16, subGroups, everyOperation: true);

    private static IReadOnlyList<GeneratedKernel> Ptx(int smVersion, bool everyOperation)
    {
        if (smVersion is not (60 or 70 or 75 or 80 or 86 or 89 or 90))
        {
            throw new ArgumentOutOfRangeException(nameof(smVersion), smVersion, "Expected one of 60, 70, 75, 80, 86, 89, 90.");
        }

        var architecture = new CudaArchitecture(smVersion / 10, smVersion % 10);
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, CudaInstructionSet.ISA_80, null);
        return Generate(backend, everyOperation, kernel => ((PTXCompiledKernel)kernel).PTXAssembly);
    }

    /// <summary>
    /// Generates the OpenCL C of every dtype's kernel for a device with the given capabilities: by default an
    /// OpenCL 2.0 device with float64 and the generic address space but without fp16 or sub-groups (what PoCL
    /// on a CPU offers). The kernels use neither fp16 nor sub-groups, so this source fits every OpenCL device
    /// that ILGPU accepts.
    /// </summary>
    /// <param name="float16">Whether the device has cl_khr_fp16.</param>
    /// <param name="subGroups">Whether the device has sub-groups.</param>
    /// <returns>The OpenCL C of each kernel (every dtype, scalar and vector variants).</returns>
    public static IReadOnlyList<GeneratedKernel> GenerateOpenCL(bool float16 = false, bool subGroups = false) => OpenCL(float16, subGroups, everyOperation: false);

    private static IReadOnlyList<GeneratedKernel> OpenCL(bool float16, bool subGroups, bool everyOperation)
    {
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        var capabilities = new CLCapabilityContext(float16: float16, float64: true, genericAddressSpace: true, int64_Atomics: false, subGroups: subGroups);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        return Generate(backend, everyOperation, kernel => ((CLCompiledKernel)kernel).Source);
    }

    /// <summary>Compiles the catalog's kernels (every operation, or the forward ones) with a backend.</summary>
    private static IReadOnlyList<GeneratedKernel> Generate(Backend backend, bool everyOperation, Func<CompiledKernel, string> code) =>
        [.. KernelCatalog.EveryOperation.Where(k => everyOperation || k.Operation == "rms_norm").Select(k => new GeneratedKernel(
            k.Type,
            k.Width,
            code(backend.Compile(
                k.ExplicitlyGrouped ? EntryPointDescription.FromExplicitlyGroupedKernel(k.Method) : EntryPointDescription.FromImplicitlyGroupedKernel(k.Method),
                default(KernelSpecialization)))) { Operation = k.Operation })];
}
