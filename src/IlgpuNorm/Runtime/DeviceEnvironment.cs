namespace IlgpuNorm.Runtime;

/// <summary>The <c>ILGPUNORM_DEVICE</c> environment variable, as a pure function of its value.</summary>
internal static class DeviceEnvironment
{
    /// <summary>The request a value of <see cref="DeviceRequest.EnvironmentVariable"/> stands for.</summary>
    /// <param name="value">The variable's value; null, empty or blank for auto.</param>
    /// <returns>The request.</returns>
    /// <exception cref="InvalidOperationException">The value is not a device request; the message names the variable and the value.</exception>
    public static DeviceRequest Parse(string? value) =>
        string.IsNullOrWhiteSpace(value) ? DeviceRequest.Auto
        : DeviceRequest.TryParse(value, out var parsed) ? parsed
        : throw new InvalidOperationException(
            $"Environment variable {DeviceRequest.EnvironmentVariable} must be auto|host|cpu|opencl|cuda[:N]; got '{value}'.");
}
