using Xunit;

namespace IlgpuNorm.Tests.Cli;

/// <summary><c>ilgpunorm kernels</c>: generated PTX and OpenCL C, written without a GPU.</summary>
public sealed class KernelsCommandTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ilgpunorm-kernels-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Kernels_WritesPtxAndOpenClForEveryDtype()
    {
        var result = CliResult.Run("kernels", "--out", folder, "--sm", "80");
        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (string name in new[] { "f32.scalar", "f32.v4", "f16.scalar", "f16.v8", "bf16.scalar", "bf16.v8", "f64.scalar", "f64.v2" })
        {
            string ptx = File.ReadAllText(Path.Combine(folder, $"rms_norm.{name}.sm_80.ptx"));
            Assert.Contains(".entry", ptx, StringComparison.Ordinal);
            string cl = File.ReadAllText(Path.Combine(folder, $"rms_norm.{name}.cl"));
            Assert.Contains("kernel void", cl, StringComparison.Ordinal);
            Assert.Contains("barrier", cl, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Kernels_UnknownArchitecture_IsAUsageError()
    {
        var result = CliResult.Run("kernels", "--out", folder, "--sm", "42");
        result.AssertError(2, "--sm");
        Assert.False(Directory.Exists(folder));
    }
}

/// <summary>The OpenCL C the kernels compile to, checked without an OpenCL driver.</summary>
public class OpenClCodegenTests
{
    [Fact]
    public void EveryKernel_CompilesToOpenClC_WithoutFp16SubGroupsOrAtomics()
    {
        var code = KernelCode.GenerateOpenCL();
        Assert.Equal(8, code.Count);
        foreach (string source in code.Select(k => k.Code))
        {
            Assert.Contains("kernel void", source, StringComparison.Ordinal);
            Assert.Contains("barrier", source, StringComparison.Ordinal);
            Assert.DoesNotContain("half", source, StringComparison.Ordinal);
            Assert.DoesNotContain("sub_group", source, StringComparison.Ordinal);
            Assert.DoesNotContain("atomic", source, StringComparison.Ordinal);

            // ILGPU 1.5.3's dynamic shared memory breaks on OpenCL (a program-scope pointer that concurrent groups
            // overwrite; "()16" for struct elements): the kernels must use a static array declared in the kernel.
            Assert.DoesNotMatch(@"\(\)\d", source);
            Assert.DoesNotMatch(@"(?m)^local\s", source);
            Assert.Matches(@"\tlocal [^;]*\[1024\];", source);
        }
    }
}
