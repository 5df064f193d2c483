using Xunit;

namespace IlgpuNorm.Tests;

/// <summary><c>ilgpunorm kernels</c> writes every kernel of every operation, the input of scripts/sass-check.sh.</summary>
public sealed class KernelDumpTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "ilgpunorm-dump-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Kernels_WritesTheQuantizedAndBackwardKernelsToo()
    {
        var result = Cli.CliResult.Run("kernels", "--out", folder, "--sm", "90");
        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (string dtype in new[] { "f32", "f16", "bf16", "f64" })
        {
            foreach (string operation in new[] { "rms_norm_quant_int8", "rms_norm_quant_fp8", "rms_norm_backward", "rms_norm_backward_dweight" })
            {
                string ptx = File.ReadAllText(Path.Combine(folder, $"{operation}.{dtype}.scalar.sm_90.ptx"));
                Assert.Contains(".entry", ptx, StringComparison.Ordinal);
                Assert.Contains("kernel void", File.ReadAllText(Path.Combine(folder, $"{operation}.{dtype}.scalar.cl")), StringComparison.Ordinal);
            }
        }

        Assert.Equal(24, Directory.GetFiles(folder, "*.sm_90.ptx").Length);
        Assert.Equal(24, Directory.GetFiles(folder, "*.cl").Length);
    }

    [Fact]
    public void GeneratedKernel_Name_CarriesTheOperation()
    {
        Assert.Equal("rms_norm.f32.v4", new GeneratedKernel(ElementType.Float32, 4, "").Name);
        Assert.Equal("rms_norm_backward.bf16.scalar", new GeneratedKernel(ElementType.BFloat16, 1, "") { Operation = "rms_norm_backward" }.Name);
    }
}
