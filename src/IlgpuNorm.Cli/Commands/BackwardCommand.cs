using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuNorm.IO;

namespace IlgpuNorm.Cli.Commands;

/// <summary>The arguments of <c>ilgpunorm backward</c>, as given on the command line.</summary>
/// <param name="Input">x.</param>
/// <param name="Dy">dy.</param>
/// <param name="Dx">Where to write dx.</param>
/// <param name="NormalizedShape">The normalized shape.</param>
internal sealed record BackwardSettings(string Input, string Dy, string Dx, string NormalizedShape)
{
    /// <summary>The weight, or null.</summary>
    public string? Weight { get; init; }

    /// <summary>Where to write dweight (required with a weight).</summary>
    public string? Dweight { get; init; }

    /// <summary>eps.</summary>
    public string? Epsilon { get; init; }

    /// <summary>num_groups.</summary>
    public string? NumGroups { get; init; }

    /// <summary>The device.</summary>
    public string? Device { get; init; }

    /// <summary>bfloat16 for &lt;u2 files.</summary>
    public string? DType { get; init; }
}

/// <summary>
/// <c>ilgpunorm backward</c>: the rms_norm backward pass (<see cref="RmsNormBackward"/>) on .npy files. dx has x's shape and
/// dtype; dweight has the weight's shape and dtype. Everything is checked before anything is computed; each file is written
/// atomically (dweight first, then dx).
/// </summary>
internal static class BackwardCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "x, the forward's input .npy (<f4, <f2, <f8; <u2 with --dtype bfloat16).", Required = true };
        var dy = new Option<string>("--dy") { Description = "dy, the gradient of the output: a .npy of x's shape and dtype.", Required = true };
        var dx = new Option<string>("--dx") { Description = "Where to write dx (x's shape and dtype).", Required = true };
        var normalized = new Option<string>("--normalized-shape", "-n") { Description = "The trailing dimensions that were normalized: D[,D...].", Required = true };
        var weight = new Option<string>("--weight", "-w") { Description = "The weight .npy of the normalized shape (none: w = 1 and no dweight)." };
        var dweight = new Option<string>("--dweight") { Description = "Where to write dweight (the weight's shape and dtype); required with --weight." };
        var eps = new Option<string>("--eps") { Description = "eps, finite and >= 0 (default 1e-6)." };
        var groups = new Option<string>("--num-groups", "-g") { Description = "num_groups (default 1)." };
        var device = new Option<string>("--device", "-d") { Description = "auto|host|cpu|opencl|cuda[:N] (default: ILGPUNORM_DEVICE if set, else auto)." };
        var dtype = new Option<string>("--dtype") { Description = "bfloat16: read <u2 files as bfloat16 bits (required for <u2)." };
        var command = new Command("backward", "The rms_norm backward pass: dx and dweight from x, dy and the weight (.npy in, .npy out).")
        {
            input, dy, dx, normalized, weight, dweight, eps, groups, device, dtype,
        };
        command.SetAction(result => Execute(
            new BackwardSettings(result.GetRequiredValue(input), result.GetRequiredValue(dy), result.GetRequiredValue(dx), result.GetRequiredValue(normalized))
            {
                Weight = result.GetValue(weight),
                Dweight = result.GetValue(dweight),
                Epsilon = result.GetValue(eps),
                NumGroups = result.GetValue(groups),
                Device = result.GetValue(device),
                DType = result.GetValue(dtype),
            },
            result.InvocationConfiguration.Output,
            result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the command.</summary>
    /// <returns>0 on success; <see cref="ExitCodes.Usage"/> for bad input; <see cref="ExitCodes.Failure"/> when the computation or a write fails.</returns>
    public static int Execute(BackwardSettings settings, TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        ArgumentNullException.ThrowIfNull(settings);
        int[] normalizedShape = CliParsing.Shape("--normalized-shape", settings.NormalizedShape);
        double eps = CliParsing.Epsilon("--eps", settings.Epsilon);
        int numGroups = CliParsing.PositiveInt("--num-groups", settings.NumGroups, 1);
        DeviceRequest? device = settings.Device is null ? null : CliParsing.Device("--device", settings.Device);
        bool bfloat16 = CliArrays.BFloat16Flag(settings.DType);
        CliArrays.RequirePath("--dx", settings.Dx);
        if (settings.Weight is null && settings.Dweight is not null)
        {
            throw new UsageException("--dweight: there is no dweight without --weight");
        }

        if (settings.Weight is not null && settings.Dweight is null)
        {
            throw new UsageException("--dweight: expected a path for dweight when --weight is given");
        }

        var x = CliArrays.Read("--input", settings.Input);
        CliArrays.CheckDType("--input", x, bfloat16);
        CliArrays.CheckShapes(x.Shape, normalizedShape, numGroups);
        var dy = CliArrays.ReadLike("--dy", settings.Dy, x, x.Shape);
        var w = settings.Weight is null ? null : CliArrays.ReadWeight(settings.Weight, x, normalizedShape);

        var options = new RmsNormOptions { Device = device, Epsilon = eps, NumGroups = numGroups };
        var selection = DeviceDispatcher.Shared.Select(device);
        var clock = Stopwatch.StartNew();
        var (dxArray, dwArray) = x.ElementType switch
        {
            ElementType.Float32 => Compute<float>(x, dy, w, normalizedShape, options),
            ElementType.Float16 => Compute<Half>(x, dy, w, normalizedShape, options),
            ElementType.BFloat16 => Compute<BFloat16>(x, dy, w, normalizedShape, options),
            _ => Compute<double>(x, dy, w, normalizedShape, options),
        };
        double milliseconds = clock.Elapsed.TotalMilliseconds;
        if (dwArray is not null)
        {
            CliArrays.Write("--dweight", settings.Dweight!, dwArray);
        }

        CliArrays.Write("--dx", settings.Dx, dxArray);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {settings.Dx}: {dxArray.Descr} {CliParsing.Format(dxArray.Shape)}{(dwArray is null ? string.Empty : $" and {settings.Dweight}: {dwArray.Descr} {CliParsing.Format(dwArray.Shape)}")}, " +
            $"normalized over {CliParsing.Format(normalizedShape)}, num_groups {numGroups}, eps {eps:R}; on {selection.Device} ({selection.Reason}) in {milliseconds:0.###} ms"));
        return ExitCodes.Success;
    });

    private static (NpyArray Dx, NpyArray? Dw) Compute<T>(NpyArray x, NpyArray dy, NpyArray? w, int[] normalizedShape, RmsNormOptions options)
        where T : unmanaged
    {
        T[] weight = w is null ? [] : w.ToArray<T>();
        var dx = new T[x.Length];
        var dw = new T[weight.Length];
        RmsNormBackward.Compute<T>(dy.ToArray<T>(), x.ToArray<T>(), x.Shape, normalizedShape, weight, dx, dw, default, options);
        return (NpyArray.Create<T>(dx, x.Shape), w is null ? null : NpyArray.Create<T>(dw, normalizedShape));
    }
}
