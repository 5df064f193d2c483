using System.Globalization;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// A benchmark shape: <see cref="Rows"/> rows of <see cref="Columns"/> float32 elements, normalized over the
/// last axis. Shown as <c>ROWSxCOLUMNS</c>; sorts by size, so summaries list shapes smallest first.
/// </summary>
/// <param name="Rows">The leading dimension (tokens).</param>
/// <param name="Columns">The normalized length (hidden size).</param>
public sealed record RmsNormShape(int Rows, int Columns) : IComparable<RmsNormShape>, IComparable
{
    /// <summary>Elements of x (and of y).</summary>
    public int Elements => Rows * Columns;

    /// <summary>Bytes of x (and of y) in float32.</summary>
    public long TensorBytes => (long)Elements * sizeof(float);

    /// <summary>Bytes of the weight in float32.</summary>
    public long WeightBytes => (long)Columns * sizeof(float);

    /// <inheritdoc />
    public int CompareTo(RmsNormShape? other) =>
        other is null ? 1 : Elements != other.Elements ? Elements.CompareTo(other.Elements) : Columns.CompareTo(other.Columns);

    /// <inheritdoc />
    public int CompareTo(object? obj) => CompareTo(obj as RmsNormShape);

    /// <summary>Orders by size.</summary>
    public static bool operator <(RmsNormShape? left, RmsNormShape? right) => Compare(left, right) < 0;

    /// <summary>Orders by size.</summary>
    public static bool operator <=(RmsNormShape? left, RmsNormShape? right) => Compare(left, right) <= 0;

    /// <summary>Orders by size.</summary>
    public static bool operator >(RmsNormShape? left, RmsNormShape? right) => Compare(left, right) > 0;

    /// <summary>Orders by size.</summary>
    public static bool operator >=(RmsNormShape? left, RmsNormShape? right) => Compare(left, right) >= 0;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Rows}x{Columns}");

    private static int Compare(RmsNormShape? left, RmsNormShape? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);
}
