using System.Globalization;

namespace IlgpuNorm.Cli;

/// <summary>Parses option text; every failure is a <see cref="UsageException"/> naming the option, what it expects and what it got.</summary>
internal static class CliParsing
{
    /// <summary>
    /// Parses a normalized shape: <c>D</c> or <c>D,D,...</c>, each D &gt; 0; spaces, <c>[...]</c>, and NumPy's tuple
    /// form <c>(D,)</c> / <c>(D, D)</c> are accepted.
    /// </summary>
    public static int[] Shape(string option, string? text)
    {
        string trimmed = (text ?? string.Empty).Trim();
        if (trimmed.Length >= 2 && ((trimmed[0] == '[' && trimmed[^1] == ']') || (trimmed[0] == '(' && trimmed[^1] == ')')))
        {
            bool tuple = trimmed[0] == '(';
            trimmed = trimmed[1..^1].Trim();
            if (tuple && trimmed.EndsWith(',') && trimmed.Count(c => c == ',') == 1)
            {
                trimmed = trimmed[..^1]; // (7,) is a one-element tuple
            }
        }

        string[] parts = trimmed.Split(',', StringSplitOptions.TrimEntries);
        if (trimmed.Length == 0 || parts.Length == 0)
        {
            throw new UsageException($"{option}: expected dimensions D[,D...]; got '{text}'");
        }

        int[] shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] <= 0)
            {
                throw new UsageException($"{option}: expected positive integer dimensions D[,D...]; got '{text}'");
            }
        }

        return shape;
    }

    /// <summary>Parses eps: a finite number &gt;= 0; null gives the default.</summary>
    public static double Epsilon(string option, string? text)
    {
        if (text is null)
        {
            return RmsNormOptions.DefaultEpsilon;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double eps) && double.IsFinite(eps) && eps >= 0
            ? eps
            : throw new UsageException($"{option}: expected a finite number >= 0; got '{text}'");
    }

    /// <summary>Parses a positive integer; null gives <paramref name="fallback"/>.</summary>
    public static int PositiveInt(string option, string? text, int fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1
            ? value
            : throw new UsageException($"{option}: expected an integer >= 1; got '{text}'");
    }

    /// <summary>Parses a device request; null is auto.</summary>
    public static DeviceRequest Device(string option, string? text)
    {
        if (text is null)
        {
            return DeviceRequest.Auto;
        }

        return DeviceRequest.TryParse(text, out var request)
            ? request
            : throw new UsageException($"{option}: expected auto|host|cpu|opencl|cuda[:N]; got '{text}'");
    }

    /// <summary>A shape as <c>[a, b]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
