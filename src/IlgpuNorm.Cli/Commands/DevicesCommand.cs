using System.CommandLine;
using System.Globalization;

namespace IlgpuNorm.Cli.Commands;

/// <summary><c>ilgpunorm devices</c>: lists the devices found, best first, and what <c>auto</c> picks and why.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the devices found, best first, and which one 'auto' picks and why.");
        command.SetAction(result => Execute(result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Prints the device table and the auto choice.</summary>
    /// <returns>0, or <see cref="ExitCodes.Failure"/> when no device starts.</returns>
    public static int Execute(TextWriter stdout, TextWriter stderr) => CommandEdge.Run(stderr, () =>
    {
        var dispatcher = DeviceDispatcher.Shared;
        var table = new TextTable("device", "backend", "name", "memory", "max group", "warp", "fp16", "detail");
        foreach (var device in dispatcher.Devices)
        {
            table.Add(
                device.Request.ToString(),
                device.Kind.ToString().ToLowerInvariant() + (device.IsGpu ? " (gpu)" : string.Empty),
                device.Name,
                FormatBytes(device.MemoryBytes),
                device.MaxGroupSize > 0 ? device.MaxGroupSize.ToString(CultureInfo.InvariantCulture) : "-",
                device.WarpSize.ToString(CultureInfo.InvariantCulture),
                device.SupportsFloat16 ? "yes" : "no",
                device.Detail);
        }

        stdout.WriteLine("Devices, best first:");
        table.WriteTo(stdout, "  ");
        stdout.WriteLine();

        var selection = dispatcher.Select(DeviceRequest.Auto);
        stdout.WriteLine($"auto picks {selection.Device}: {selection.Reason}");
        string? environment = Environment.GetEnvironmentVariable(DeviceRequest.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(environment))
        {
            stdout.WriteLine($"{DeviceRequest.EnvironmentVariable}={environment} overrides auto for calls that name no device.");
        }

        return ExitCodes.Success;
    });

    /// <summary>Bytes as KiB/MiB/GiB; "-" when unknown.</summary>
    internal static string FormatBytes(long bytes)
    {
        if (bytes <= 0)
        {
            return "-";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
