using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using IlgpuNorm.Kernels;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>CUDA and OpenCL code generation of the quantized and backward kernels without a GPU: the same C# compiles for CUDA.</summary>
public class QuantBackwardCodegenTests
{
    [Fact]
    public void EveryKernel_CompilesToPtx_WithTrueDivisionAndSqrt_NoAtomics()
    {
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null);
        foreach (var (name, type, method) in Grouped())
        {
            string ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), default(KernelSpecialization))).PTXAssembly;
            Assert.Contains("bar.sync", ptx, StringComparison.Ordinal);
            Assert.True(ptx.Contains(type == ElementType.Float64 ? "sqrt.rn.f64" : "sqrt.rn.f32", StringComparison.Ordinal), $"{name}: no correctly rounded sqrt");
            Assert.True(ptx.Contains("div.rn.f32", StringComparison.Ordinal) || ptx.Contains("div.rn.f64", StringComparison.Ordinal), $"{name}: no true division");
            Assert.DoesNotContain("atom.", ptx, StringComparison.Ordinal);
        }

        foreach (var (name, _, _, method, _) in KernelCatalog.EveryOperation.Where(k => !k.ExplicitlyGrouped))
        {
            string ptx = ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromImplicitlyGroupedKernel(method), default(KernelSpecialization))).PTXAssembly;
            Assert.True(ptx.Contains(".entry", StringComparison.Ordinal), name);
            Assert.DoesNotContain("atom.", ptx, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryKernel_CompilesToOpenCL_WithoutFp16OrAtomics()
    {
        using var context = Context.Create(builder => builder.Optimize(OptimizationLevel.O2));
        var capabilities = new CLCapabilityContext(float16: false, float64: true, genericAddressSpace: true, int64_Atomics: false, subGroups: false);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Other, CLCVersion.CL20);
        foreach (var (name, _, method) in Grouped())
        {
            string source = ((CLCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), default(KernelSpecialization))).Source;
            Assert.True(source.Contains("barrier", StringComparison.Ordinal), $"{name}: no barrier");
            Assert.DoesNotContain("atomic_", source, StringComparison.Ordinal);
            Assert.DoesNotContain("half ", source, StringComparison.Ordinal);
        }
    }

    /// <summary>The explicitly grouped quantized and backward kernels (name, dtype, method).</summary>
    private static IEnumerable<(string Name, ElementType Type, System.Reflection.MethodInfo Method)> Grouped() =>
        KernelCatalog.EveryOperation.Where(k => k.Operation != "rms_norm" && k.ExplicitlyGrouped).Select(k => ($"{k.Operation}-{k.Type}", k.Type, k.Method));
}
