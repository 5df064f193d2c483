using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>CUDA code generation without a GPU: ILGPU's PTX backend compiles every kernel.</summary>
public class PtxCodegenTests
{
    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void EveryKernel_CompilesToPtx_WithTrueDivisionAndSqrt_NoSpillsNoAtomics(int sm)
    {
        var ptx = KernelCode.GeneratePtx(sm);
        Assert.Equal(8, ptx.Count);
        foreach (var (type, _, code) in ptx)
        {
            // ILGPU targets the lowest architecture the kernel needs (sm_80 here), which runs on every newer one.
            var target = System.Text.RegularExpressions.Regex.Match(code, @"\.target sm_(\d+)");
            Assert.True(target.Success, "the PTX names its target");
            Assert.InRange(int.Parse(target.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 30, sm);
            Assert.Contains("bar.sync", code, StringComparison.Ordinal);
            Assert.Contains(type == ElementType.Float64 ? "div.rn.f64" : "div.rn.f32", code, StringComparison.Ordinal);
            Assert.Contains(type == ElementType.Float64 ? "sqrt.rn.f64" : "sqrt.rn.f32", code, StringComparison.Ordinal);
            Assert.DoesNotContain(".local", code, StringComparison.Ordinal);
            Assert.DoesNotContain("atom.", code, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void VectorKernels_UseVectorLoadsAndStores_ScalarKernelsDoNot(int sm)
    {
        foreach (var kernel in KernelCode.GeneratePtx(sm))
        {
            string expected = kernel.Type switch
            {
                ElementType.Float32 => "ld.global.v4.f32",
                ElementType.Float64 => "ld.global.v2.f64",
                _ => "ld.global.v4.b32", // eight 16-bit values packed in four 32-bit words: one 16-byte load (PackedSixteenBit8)
            };
            if (kernel.VectorWidth == 1)
            {
                Assert.DoesNotContain("ld.global.v", kernel.Code, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(kernel.Code.Contains(expected, StringComparison.Ordinal),
                    $"{kernel.Name}: expected a vector load ({expected}) in\n{string.Join('\n', kernel.Code.Split('\n').Where(l => l.Contains("ld.global", StringComparison.Ordinal)))}");
                Assert.Contains("st.global.v", kernel.Code, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(80)]
    [InlineData(90)]
    public void EveryKernelOfEveryOperation_HasNoJumpTable_AndReducesWithShufflesOnCuda(int sm)
    {
        var ptx = KernelCode.GenerateAllPtx(sm);
        Assert.Equal(24, ptx.Count); // 8 forward, 8 quantized, 4 backward, 4 dweight sums
        Assert.Equal(ptx.Count, ptx.Select(k => k.Name).Distinct().Count());
        foreach (var kernel in ptx)
        {
            // ILGPU 1.5.3 does not unroll loops: a packet indexed in a loop became a jump table (brx.idx) per access.
            Assert.False(kernel.Code.Contains("brx", StringComparison.Ordinal), $"{kernel.Name}: a jump table (brx.idx)");
            Assert.DoesNotContain("atom.", kernel.Code, StringComparison.Ordinal);
            if (kernel.Operation != "rms_norm_backward_dweight")
            {
                Assert.True(kernel.Code.Contains("shfl.sync.down", StringComparison.Ordinal), $"{kernel.Name}: no warp shuffle in the sum tree");
            }
        }
    }

    [Fact]
    public void EveryKernelOfEveryOperation_CompilesToOpenCl_WithoutShuffles()
    {
        var code = KernelCode.GenerateAllOpenCL();
        Assert.Equal(24, code.Count);
        foreach (var kernel in code)
        {
            // ILGPU 1.5.3 maps OpenCL shuffles for Intel only: the kernels keep the shared-memory tree there.
            Assert.DoesNotContain("shuffle", kernel.Code, StringComparison.Ordinal);
            Assert.DoesNotContain("sub_group", kernel.Code, StringComparison.Ordinal);
            Assert.DoesNotContain("mul.rn", kernel.Code, StringComparison.Ordinal);
            Assert.Contains("kernel void", kernel.Code, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnknownArchitecture_Throws() =>
        Assert.Equal("smVersion", Assert.Throws<ArgumentOutOfRangeException>(() => KernelCode.GeneratePtx(42)).ParamName);
}
