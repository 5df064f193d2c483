using System.Globalization;

namespace IlgpuNorm.Benchmarking;

/// <summary>A benchmarked input shape: <c>[Rows, Hidden]</c>, normalized over the hidden axis.</summary>
/// <param name="Rows">The number of rows (tokens).</param>
/// <param name="Hidden">The hidden size: the normalized length, and the weight's length.</param>
public readonly record struct BenchShape(int Rows, int Hidden)
{
    /// <summary>The number of elements of x (and of y).</summary>
    public long Elements => (long)Rows * Hidden;

    /// <summary>Parses <c>RxH</c> (or <c>R×H</c>), both positive, with at most <see cref="Array.MaxLength"/> elements.</summary>
    /// <param name="text">The text of one shape.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>Whether the text was a valid shape.</returns>
    public static bool TryParse(string text, out BenchShape shape)
    {
        shape = default;
        string[] parts = text.Trim().Split(['x', 'X', '×'], StringSplitOptions.TrimEntries);
        if (parts.Length != 2 ||
            !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rows) ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int hidden) ||
            rows < 1 || hidden < 1 || (long)rows * hidden > Array.MaxLength)
        {
            return false;
        }

        shape = new BenchShape(rows, hidden);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Rows}x{Hidden}");
}
