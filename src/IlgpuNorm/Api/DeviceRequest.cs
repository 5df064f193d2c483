using System.Globalization;

namespace IlgpuNorm;

/// <summary>
/// Which device to run on: a <see cref="DeviceKind"/> and, for CUDA and OpenCL, the index among
/// the devices of that kind (<c>opencl:1</c> is the second OpenCL device).
/// </summary>
/// <param name="Kind">The backend.</param>
/// <param name="Index">The index among devices of that backend (0 = the first).</param>
public readonly record struct DeviceRequest(DeviceKind Kind, int Index = 0)
{
    /// <summary>The environment variable that overrides <see cref="Auto"/>: <c>auto|host|cpu|opencl|cuda</c>, optionally <c>:N</c>.</summary>
    public const string EnvironmentVariable = "ILGPUNORM_DEVICE";

    /// <summary>Let the dispatcher choose.</summary>
    public static DeviceRequest Auto => new(DeviceKind.Auto);

    /// <summary>The host path.</summary>
    public static DeviceRequest Host => new(DeviceKind.Host);

    /// <summary>ILGPU's CPU accelerator.</summary>
    public static DeviceRequest Cpu => new(DeviceKind.Cpu);

    /// <summary>Parses <c>auto</c>, <c>host</c>, <c>cpu</c>, <c>opencl</c>, <c>cuda</c>, optionally followed by <c>:N</c>.</summary>
    /// <param name="text">The text to parse (case-insensitive).</param>
    /// <returns>The request.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">The text is not one of the accepted forms.</exception>
    public static DeviceRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var request)
            ? request
            : throw new FormatException($"Expected a device of the form auto|host|cpu|opencl|cuda[:N]; got '{text}'.");
    }

    /// <summary>Tries to parse a device request; see <see cref="Parse"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="request">The parsed request.</param>
    /// <returns>Whether the text was valid.</returns>
    public static bool TryParse(string? text, out DeviceRequest request)
    {
        request = Auto;
        string[] parts = (text ?? string.Empty).Trim().Split(':');
        DeviceKind? kind = parts[0].ToUpperInvariant() switch
        {
            "AUTO" => DeviceKind.Auto,
            "HOST" => DeviceKind.Host,
            "CPU" => DeviceKind.Cpu,
            "OPENCL" => DeviceKind.OpenCL,
            "CUDA" => DeviceKind.Cuda,
            _ => null,
        };
        int index = 0;
        if (kind is null || parts.Length > 2 ||
            (parts.Length == 2 && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out index) || kind is DeviceKind.Auto or DeviceKind.Host)))
        {
            return false;
        }

        request = new DeviceRequest(kind.Value, index);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() =>
        Kind is DeviceKind.Cuda or DeviceKind.OpenCL or DeviceKind.Cpu && Index != 0
            ? $"{Kind.ToString().ToLowerInvariant()}:{Index}"
            : Kind.ToString().ToLowerInvariant();
}
