using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuNorm.IO;

namespace IlgpuNorm.Cli.Commands;

/// <summary>
/// <c>ilgpunorm run</c>: normalizes a .npy file into another. Everything is checked before anything is computed, and
/// the output is written only at the end, atomically: on any error no output file appears and an existing one is left as it was.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "The input .npy (<f4, <f2, <f8; <u2 with --dtype bfloat16), C order.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The output .npy, written atomically in the input's dtype.", Required = true };
        var normalized = new Option<string>("--normalized-shape", "-n") { Description = "The trailing dimensions to normalize over: D[,D...] (normalized_shape).", Required = true };
        var weight = new Option<string>("--weight", "-w") { Description = "A weight .npy of the normalized shape, in the input's dtype." };
        var eps = new Option<string>("--eps") { Description = "eps, finite and >= 0 (default 1e-6)." };
        var groups = new Option<string>("--num-groups", "-g") { Description = "num_groups: split the normalized dimension into G groups (default 1)." };
        var device = new Option<string>("--device", "-d") { Description = "auto|host|cpu|opencl|cuda[:N] (default: ILGPUNORM_DEVICE if set, else auto)." };
        var dtype = new Option<string>("--dtype") { Description = "bfloat16: read <u2 files as bfloat16 bits (required for <u2)." };
        var residual = new Option<string>("--residual") { Description = "Fused residual add: a .npy of the input's shape and dtype; normalizes (T)(input + residual). Needs --residual-output." };
        var residualOutput = new Option<string>("--residual-output") { Description = "Where --residual's updated value (T)(input + residual) is written, atomically." };
        var offset = new Option<string>("--weight-offset") { Description = "Added to the weight in float32 (Gemma: 1); needs --weight (default 0)." };
        var bias = new Option<string>("--bias") { Description = "A bias .npy of the normalized shape, added after the weight." };
        var policy = new Option<string>("--policy") { Description = "Rounding: trtllm (default) | weight-fp32 | input-dtype." };
        var command = new Command("run", "Normalize a .npy array with rms_norm and write the result as .npy.")
        {
            input, output, normalized, weight, eps, groups, device, dtype, residual, residualOutput, offset, bias, policy,
        };
        var quantize = RunQuantize.AddOptions(command); // --quantize, --scale, --scale-output, --clamp (RunQuantize.cs)
        command.SetAction(result =>
        {
            var extensions = new Extensions(result.GetValue(residual), result.GetValue(residualOutput), result.GetValue(offset), result.GetValue(bias), result.GetValue(policy));
            string? unsupported = extensions.Residual is not null ? "--residual" : extensions.WeightOffset is not null ? "--weight-offset"
                : extensions.Bias is not null ? "--bias" : extensions.Policy is not null ? "--policy" : null;
            if (result.GetValue(quantize.Quantize) is not null && unsupported is not null)
            {
                return CommandEdge.Run(result.InvocationConfiguration.Error, () =>
                    throw new UsageException($"{unsupported}: not available with --quantize (the quantized output is x / rms · w in float32)"));
            }

            return quantize.Run(
                result,
                new RunSettings(result.GetRequiredValue(input), result.GetRequiredValue(output), result.GetRequiredValue(normalized))
                {
                    Weight = result.GetValue(weight),
                    Epsilon = result.GetValue(eps),
                    NumGroups = result.GetValue(groups),
                    Device = result.GetValue(device),
                    DType = result.GetValue(dtype),
                },
                (settings, stdout, stderr) => Execute(settings, stdout, stderr, extensions));
        });
        return command;
    }

    /// <summary>Runs the command.</summary>
    /// <returns>0 on success; <see cref="ExitCodes.Usage"/> for bad input; <see cref="ExitCodes.Failure"/> when the computation or the write fails.</returns>
    public static int Execute(RunSettings settings, TextWriter stdout, TextWriter stderr, Extensions? extensions = null) => CommandEdge.Run(stderr, () =>
    {
        ArgumentNullException.ThrowIfNull(settings);
        extensions ??= new Extensions(null, null, null, null, null);
        int[] normalizedShape = CliParsing.Shape("--normalized-shape", settings.NormalizedShape);
        double eps = CliParsing.Epsilon("--eps", settings.Epsilon);
        int numGroups = CliParsing.PositiveInt("--num-groups", settings.NumGroups, 1);
        DeviceRequest? device = settings.Device is null ? null : CliParsing.Device("--device", settings.Device);
        bool bfloat16 = CliArrays.BFloat16Flag(settings.DType);
        CliArrays.RequirePath("--output", settings.Output);
        var x = CliArrays.Read("--input", settings.Input);
        CliArrays.CheckDType("--input", x, bfloat16);
        CliArrays.CheckShapes(x.Shape, normalizedShape, numGroups);
        var w = settings.Weight is null ? null : CliArrays.ReadWeight(settings.Weight, x, normalizedShape);

        var (policy, offset, b, r) = extensions.Parse(x, w, normalizedShape, settings.Output);
        var selection = DeviceDispatcher.Shared.Select(device);
        var options = new RmsNormOptions { Device = device, Epsilon = eps, NumGroups = numGroups, Policy = policy, WeightOffset = offset };
        var clock = Stopwatch.StartNew();
        var (y, r2) = x.ElementType switch
        {
            ElementType.Float32 => Compute<float>(x, w, b, r, normalizedShape, options),
            ElementType.Float16 => Compute<Half>(x, w, b, r, normalizedShape, options),
            ElementType.BFloat16 => Compute<BFloat16>(x, w, b, r, normalizedShape, options),
            _ => Compute<double>(x, w, b, r, normalizedShape, options),
        };
        double milliseconds = clock.Elapsed.TotalMilliseconds;
        if (r2 is not null)
        {
            CliArrays.Write("--residual-output", extensions.ResidualOutput!, r2);
        }

        CliArrays.Write("--output", settings.Output, y);

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.Output}: {y.Descr} {CliParsing.Format(y.Shape)}, normalized over {CliParsing.Format(normalizedShape)}, " +
            $"num_groups {numGroups}, eps {eps:R}, weight {(w is null ? "none" : "yes")}{extensions.Describe(policy, offset)}; on {selection.Device} ({selection.Reason}) in {milliseconds:0.###} ms"));
        return ExitCodes.Success;
    });

    private static (NpyArray Y, NpyArray? Residual) Compute<T>(NpyArray x, NpyArray? w, NpyArray? b, NpyArray? r, int[] normalizedShape, RmsNormOptions options)
        where T : unmanaged
    {
        T[] input = x.ToArray<T>();
        T[] weight = w is null ? [] : w.ToArray<T>();
        T[] bias = b is null ? [] : b.ToArray<T>();
        T[] result = new T[input.Length];
        if (r is null)
        {
            RmsNorm.Compute<T>(input, x.Shape, normalizedShape, weight, bias, result, options);
            return (NpyArray.Create<T>(result, x.Shape), null);
        }

        T[] residual = r.ToArray<T>();
        RmsNorm.ComputeFusedAdd<T>(input, residual, x.Shape, normalizedShape, weight, bias, result, options);
        return (NpyArray.Create<T>(result, x.Shape), NpyArray.Create<T>(residual, x.Shape));
    }

    /// <summary>The options of the extended forward pass, as text: --residual, --residual-output, --weight-offset, --bias, --policy.</summary>
    internal sealed record Extensions(string? Residual, string? ResidualOutput, string? WeightOffset, string? Bias, string? Policy)
    {
        /// <summary>Checks and reads them against the input and weight; everything fails before anything is computed.</summary>
        public (RmsNormPolicy Policy, float Offset, NpyArray? Bias, NpyArray? Residual) Parse(NpyArray x, NpyArray? w, int[] normalizedShape, string output)
        {
            var policy = Policy?.ToLowerInvariant() switch
            {
                null or "trtllm" or "tensorrtllm" => RmsNormPolicy.TensorRtLlm,
                "weight-fp32" or "weightinfloat32" => RmsNormPolicy.WeightInFloat32,
                "input-dtype" or "inputdtype" => RmsNormPolicy.InputDtype,
                _ => throw new UsageException($"--policy: expected trtllm, weight-fp32 or input-dtype; got '{Policy}'"),
            };
            float offset = 0;
            if (WeightOffset is not null &&
                (!float.TryParse(WeightOffset, NumberStyles.Float, CultureInfo.InvariantCulture, out offset) || !float.IsFinite(offset)))
            {
                throw new UsageException($"--weight-offset: expected a finite number; got '{WeightOffset}'");
            }

            if (offset != 0 && w is null)
            {
                throw new UsageException($"--weight-offset: {WeightOffset} is added to the weight; pass --weight too");
            }

            var b = Bias is null ? null : CliArrays.ReadLike("--bias", Bias, x, normalizedShape);
            if ((Residual is null) != (ResidualOutput is null))
            {
                throw new UsageException(Residual is null ? "--residual-output: needs --residual" : "--residual: needs --residual-output (where the updated residual goes)");
            }

            if (ResidualOutput is not null && (string.IsNullOrWhiteSpace(ResidualOutput) || Path.GetFullPath(ResidualOutput) == Path.GetFullPath(output)))
            {
                throw new UsageException($"--residual-output: expected a file path other than --output; got '{ResidualOutput}'");
            }

            var r = Residual is null ? null : CliArrays.ReadLike("--residual", Residual, x, x.Shape);
            if (ResidualOutput is not null)
            {
                // Two files are written: find a missing folder before the first one appears.
                foreach (var (option, path) in new[] { ("--residual-output", ResidualOutput), ("--output", output) })
                {
                    string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
                    if (folder is not null && !Directory.Exists(folder))
                    {
                        throw new UsageException($"{option}: directory not found: {folder}");
                    }
                }
            }

            return (policy, offset, b, r);
        }

        /// <summary>What the summary line adds: only the options that were given.</summary>
        public string Describe(RmsNormPolicy policy, float offset) =>
            string.Create(CultureInfo.InvariantCulture, $"{(Bias is null ? "" : ", bias yes")}{(offset == 0 ? "" : $", weight offset {offset:R}")}{(Residual is null ? "" : $", residual updated into {ResidualOutput}")}{(Policy is null ? "" : $", policy {policy}")}");
    }
}
