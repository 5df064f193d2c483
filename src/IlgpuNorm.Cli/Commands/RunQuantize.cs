using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuNorm.IO;

namespace IlgpuNorm.Cli.Commands;

/// <summary>The quantization options of <c>ilgpunorm run</c>, as given on the command line.</summary>
/// <param name="Format">int8 or fp8.</param>
/// <param name="Scale">A static scale, or null.</param>
/// <param name="ScaleOutput">Where to write the dynamic per-token scales, or null.</param>
/// <param name="Clamp">A clamp, or null.</param>
internal sealed record RunQuantizeSettings(string Format, string? Scale, string? ScaleOutput, string? Clamp);

/// <summary>
/// <c>ilgpunorm run --quantize int8|fp8 (--scale S | --scale-output S.npy) [--clamp F]</c>: rms_norm quantized to 8 bits
/// (<see cref="RmsNormQuantized"/>). The codes go to <c>--output</c> as a .npy of dtype int8 (<c>|i1</c>) for int8, or uint8
/// (<c>|u1</c>, the raw E4M3FN bytes) for fp8, with the input's shape; dynamic scales go to <c>--scale-output</c> as float32
/// of shape [rows] (rows = the product of the batch dimensions; [rows, num_groups] when num_groups is above 1). Everything is checked before anything is computed;
/// each file is written atomically (the scales first, then the codes).
/// </summary>
internal static class RunQuantize
{
    /// <summary>The options this adds to <c>run</c>.</summary>
    /// <param name="Quantize">--quantize.</param>
    /// <param name="Scale">--scale.</param>
    /// <param name="ScaleOutput">--scale-output.</param>
    /// <param name="Clamp">--clamp.</param>
    internal sealed record Options(Option<string> Quantize, Option<string> Scale, Option<string> ScaleOutput, Option<string> Clamp)
    {
        /// <summary>Runs the plain or the quantized command, depending on --quantize.</summary>
        public int Run(ParseResult result, RunSettings settings, Func<RunSettings, TextWriter, TextWriter, int> plain)
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            string? format = result.GetValue(Quantize);
            if (format is null)
            {
                string? stray = result.GetValue(Scale) is not null ? "--scale" : result.GetValue(ScaleOutput) is not null ? "--scale-output" : result.GetValue(Clamp) is not null ? "--clamp" : null;
                return stray is null ? plain(settings, stdout, stderr) : CommandEdge.Run(stderr, () => throw new UsageException($"{stray}: only with --quantize int8|fp8"));
            }

            return Execute(settings, new RunQuantizeSettings(format, result.GetValue(Scale), result.GetValue(ScaleOutput), result.GetValue(Clamp)), stdout, stderr);
        }
    }

    /// <summary>Adds --quantize, --scale, --scale-output and --clamp to the command.</summary>
    /// <param name="command">The <c>run</c> command.</param>
    /// <returns>The options.</returns>
    public static Options AddOptions(Command command)
    {
        var options = new Options(
            new Option<string>("--quantize", "-q") { Description = "Quantize the output: int8 (an |i1 .npy) or fp8 (E4M3FN bytes in a |u1 .npy)." },
            new Option<string>("--scale") { Description = "With --quantize: a static per-tensor scale (q = y / scale)." },
            new Option<string>("--scale-output") { Description = "With --quantize: dynamic per-token scales (amax / qmax), written to this float32 .npy." },
            new Option<string>("--clamp") { Description = "With --quantize: clamp y to [-F, F] before quantizing (caps a dynamic scale at F / qmax)." });
        command.Options.Add(options.Quantize);
        command.Options.Add(options.Scale);
        command.Options.Add(options.ScaleOutput);
        command.Options.Add(options.Clamp);
        return options;
    }

    /// <summary>Runs the quantized command.</summary>
    /// <returns>0 on success; <see cref="ExitCodes.Usage"/> for bad input; <see cref="ExitCodes.Failure"/> when the computation or a write fails.</returns>
    public static int Execute(RunSettings settings, RunQuantizeSettings quantize, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(quantize);
        var format = quantize.Format.ToLowerInvariant() switch
        {
            "int8" or "i8" => QuantizeFormat.Int8,
            "fp8" or "e4m3" or "float8_e4m3fn" => QuantizeFormat.Float8E4M3,
            _ => throw new UsageException($"--quantize: expected int8 or fp8; got '{quantize.Format}'"),
        };
        if ((quantize.Scale is null) == (quantize.ScaleOutput is null))
        {
            throw new UsageException("--quantize: expected exactly one of --scale S (static) or --scale-output S.npy (dynamic per-token scales)");
        }

        float? scale = quantize.Scale is null ? null : PositiveFloat("--scale", quantize.Scale);
        float? clamp = quantize.Clamp is null ? null : PositiveFloat("--clamp", quantize.Clamp);
        int[] normalizedShape = CliParsing.Shape("--normalized-shape", settings.NormalizedShape);
        double eps = CliParsing.Epsilon("--eps", settings.Epsilon);
        int numGroups = CliParsing.PositiveInt("--num-groups", settings.NumGroups, 1);
        DeviceRequest? device = settings.Device is null ? null : CliParsing.Device("--device", settings.Device);
        bool bfloat16 = CliArrays.BFloat16Flag(settings.DType);
        CliArrays.RequirePath("--output", settings.Output);
        if (quantize.ScaleOutput is not null)
        {
            CliArrays.RequirePath("--scale-output", quantize.ScaleOutput);
        }

        var x = CliArrays.Read("--input", settings.Input);
        CliArrays.CheckDType("--input", x, bfloat16);
        CliArrays.CheckShapes(x.Shape, normalizedShape, numGroups);
        var w = settings.Weight is null ? null : CliArrays.ReadWeight(settings.Weight, x, normalizedShape);

        var options = new RmsNormOptions { Device = device, Epsilon = eps, NumGroups = numGroups };
        var quantizeOptions = new QuantizeOptions { Format = format, StaticScale = scale, Clamp = clamp };
        var selection = DeviceDispatcher.Shared.Select(device);
        int batchRank = x.Shape.Length - normalizedShape.Length;
        int rows = 1;
        foreach (int dimension in x.Shape[..batchRank])
        {
            rows *= dimension;
        }

        int[] scaleShape = numGroups > 1 ? [rows, numGroups] : [rows];
        var codes = new byte[x.Length];
        var scales = new float[scale is null ? scaleShape.Aggregate(1, (a, b) => a * b) : 0];
        var clock = Stopwatch.StartNew();
        switch (x.ElementType)
        {
            case ElementType.Float32: Compute<float>(x, w, normalizedShape, codes, scales, quantizeOptions, options); break;
            case ElementType.Float16: Compute<Half>(x, w, normalizedShape, codes, scales, quantizeOptions, options); break;
            case ElementType.BFloat16: Compute<BFloat16>(x, w, normalizedShape, codes, scales, quantizeOptions, options); break;
            default: Compute<double>(x, w, normalizedShape, codes, scales, quantizeOptions, options); break;
        }

        double milliseconds = clock.Elapsed.TotalMilliseconds;
        if (quantize.ScaleOutput is not null)
        {
            CliArrays.Write("--scale-output", quantize.ScaleOutput, NpyArray.Create<float>(scales, scaleShape));
        }

        string descr = format == QuantizeFormat.Int8 ? "|i1" : "|u1";
        CliArrays.WriteBytes("--output", settings.Output, descr, x.Shape, codes);
        var invariant = CultureInfo.InvariantCulture;
        string scalePart = scale is null
            ? $"dynamic scales {CliParsing.Format(scaleShape)} to {quantize.ScaleOutput}"
            : string.Create(invariant, $"static scale {scale.Value:R}");
        string clampPart = clamp is null ? string.Empty : string.Create(invariant, $", clamp {clamp.Value:R}");
        string kind = format == QuantizeFormat.Int8 ? "int8" : "fp8 e4m3fn bytes";
        stdout.WriteLine(string.Create(invariant,
            $"wrote {settings.Output}: {descr} {CliParsing.Format(x.Shape)} ({kind}), {scalePart}{clampPart}, normalized over {CliParsing.Format(normalizedShape)}, " +
            $"num_groups {numGroups}, eps {eps:R}, weight {(w is null ? "none" : "yes")}; on {selection.Device} ({selection.Reason}) in {milliseconds:0.###} ms"));
        return ExitCodes.Success;
    });

    private static void Compute<T>(NpyArray x, NpyArray? w, int[] normalizedShape, byte[] codes, float[] scales, QuantizeOptions quantize, RmsNormOptions options)
        where T : unmanaged
    {
        T[] weight = w is null ? [] : w.ToArray<T>();
        RmsNormQuantized.Compute<T>(x.ToArray<T>(), x.Shape, normalizedShape, weight, codes, scales, quantize, options);
    }

    private static float PositiveFloat(string option, string text)
    {
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value) || value <= 0)
        {
            throw new UsageException($"{option}: expected a finite number > 0; got '{text}'");
        }

        return value;
    }
}
