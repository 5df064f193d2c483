using System.CommandLine;
using System.Globalization;

namespace IlgpuNorm.Cli.Commands;

/// <summary>
/// <c>ilgpunorm kernels</c>: writes the generated PTX and OpenCL C of every kernel of every operation (forward, quantized,
/// backward), for people who tune them and for <c>scripts/sass-check.sh</c>.
/// Needs no GPU and no driver: ILGPU's PTX and OpenCL backends generate the code.
/// </summary>
internal static class KernelsCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "The folder to write <operation>.<dtype>.<variant>.sm_<N>.ptx and <operation>.<dtype>.<variant>.cl into (operations: rms_norm, rms_norm_quant_int8, rms_norm_quant_fp8, rms_norm_backward, rms_norm_backward_dweight).", Required = true };
        var sm = new Option<int>("--sm") { Description = "CUDA architecture for the PTX, e.g. 80 or 90.", DefaultValueFactory = _ => 90 };
        var command = new Command("kernels", "Write the generated PTX and OpenCL C of every kernel of every operation (no GPU needed).") { output, sm };
        command.SetAction(result => Execute(result.GetRequiredValue(output), result.GetValue(sm), result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Writes the files.</summary>
    /// <returns>0, <see cref="ExitCodes.Usage"/> for a bad architecture, <see cref="ExitCodes.Failure"/> when a file cannot be written.</returns>
    public static int Execute(string folder, int sm, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new UsageException("--out: expected a folder; got an empty path");
        }

        IReadOnlyList<GeneratedKernel> ptx;
        try
        {
            ptx = KernelCode.GenerateAllPtx(sm);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new UsageException($"--sm: {ex.Message.Split(" (Parameter", 2)[0]}");
        }

        var openCl = KernelCode.GenerateAllOpenCL();
        Directory.CreateDirectory(folder);
        foreach (var kernel in ptx)
        {
            Write(folder, string.Create(CultureInfo.InvariantCulture, $"{kernel.Name}.sm_{sm}.ptx"), kernel.Code, stdout);
        }

        foreach (var kernel in openCl)
        {
            Write(folder, $"{kernel.Name}.cl", kernel.Code, stdout);
        }

        return ExitCodes.Success;
    });

    private static void Write(string folder, string name, string code, TextWriter stdout)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, code);
        stdout.WriteLine($"wrote {path} ({code.Length} chars)");
    }
}
