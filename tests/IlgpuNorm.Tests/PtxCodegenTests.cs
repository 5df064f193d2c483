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

    [Fact]
    public void UnknownArchitecture_Throws() =>
        Assert.Equal("smVersion", Assert.Throws<ArgumentOutOfRangeException>(() => KernelCode.GeneratePtx(42)).ParamName);
}
