using System.Globalization;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// A benchmark shape: <see cref="Rows"/> rows of <see cref="Columns"/> elements of <see cref="ElementBytes"/> bytes
/// (float32 unless given), normalized over the last axis. Shown as <c>ROWSxCOLUMNS</c>; sorts by size, so summaries
/// list shapes smallest first.
/// </summary>
/// <param name="Rows">The leading dimension (tokens).</param>
/// <param name="Columns">The normalized length (hidden size).</param>
/// <param name="ElementBytes">Bytes per element: 4 (float32), 2 (float16, bfloat16).</param>
public sealed record RmsNormShape(int Rows, int Columns, int ElementBytes = sizeof(float)) : IComparable<RmsNormShape>, IComparable
{
    /// <summary>Elements of x (and of y).</summary>
    public int Elements => Rows * Columns;

    /// <summary>Bytes of x (and of y).</summary>
    public long TensorBytes => (long)Elements * ElementBytes;

    /// <summary>Bytes of the weight.</summary>
    public long WeightBytes => (long)Columns * ElementBytes;

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
