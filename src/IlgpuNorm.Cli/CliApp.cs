using System.CommandLine;
using System.CommandLine.Help;
using IlgpuNorm.Cli.Commands;

namespace IlgpuNorm.Cli;

/// <summary>The <c>ilgpunorm</c> command line: builds the commands and runs one, writing to the given writers.</summary>
internal static class CliApp
{
    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Receives results and help.</param>
    /// <param name="stderr">Receives one <c>error: …</c> line on failure.</param>
    /// <returns>The exit code: 0 on success, <see cref="ExitCodes.Usage"/> for usage or input errors, <see cref="ExitCodes.Failure"/> otherwise.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        // A plain Command rather than RootCommand: RootCommand names itself after the entry assembly (IlgpuNorm.Cli),
        // and help should say what the user types. RootCommand's help and version options are added by hand.
        var root = new Command("ilgpunorm", "RMS normalization (tensorrt_llm.functional.rms_norm) on .npy files, with ILGPU kernels and a SIMD host path.");
        root.Options.Add(new HelpOption { Recursive = true });
        root.Options.Add(new VersionOption());
        root.Subcommands.Add(DevicesCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(BackwardCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(KernelsCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            string command = result.CommandResult.Command == root ? "ilgpunorm" : $"ilgpunorm {result.CommandResult.Command.Name}";
            string messages = string.Join("; ", result.Errors.Select(e => CommandEdge.OneLine(e.Message).TrimEnd('.')).Distinct());
            stderr.WriteLine($"error: {messages} (see '{command} --help')");
            return ExitCodes.Usage;
        }

        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}
