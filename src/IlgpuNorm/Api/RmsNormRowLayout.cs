namespace IlgpuNorm;

/// <summary>
/// Rows of <see cref="Hidden"/> elements that start <see cref="InputRowStride"/> (input), <see cref="OutputRowStride"/>
/// (destination) and <see cref="ResidualRowStride"/> (residual) elements apart: a slice of a bigger buffer, such as the
/// query heads of a fused QKV tensor, normalized without a copy. Elements between rows are never read or written.
/// </summary>
/// <remarks>
/// <para>Row <c>r</c> of the input is <c>input[r * InputRowStride .. r * InputRowStride + Hidden)</c>; a span passed
/// with this layout must hold at least <c>(Rows - 1) * stride + Hidden</c> elements. A stride equal to
/// <see cref="Hidden"/> is contiguous. Strides are PyTorch's <c>x.stride(-2)</c> of a tensor whose last dimension is contiguous.</para>
/// </remarks>
/// <param name="Rows">Rows to normalize (&gt;= 0).</param>
/// <param name="Hidden">Elements per row, the normalized size (&gt; 0).</param>
/// <param name="InputRowStride">Elements from one input row's start to the next (&gt;= <paramref name="Hidden"/>).</param>
/// <param name="OutputRowStride">Elements from one destination row's start to the next (&gt;= <paramref name="Hidden"/>).</param>
public readonly record struct RmsNormRowLayout(int Rows, int Hidden, int InputRowStride, int OutputRowStride)
{
    /// <summary>Elements from one residual row's start to the next in the fused add; 0 (the default) means <see cref="InputRowStride"/>.</summary>
    public int ResidualRowStride { get; init; }

    /// <summary>Contiguous rows: every stride equal to <paramref name="hidden"/>.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="hidden">Elements per row.</param>
    /// <returns>The layout.</returns>
    public static RmsNormRowLayout Contiguous(int rows, int hidden) => new(rows, hidden, hidden, hidden);

    /// <summary>The residual stride in effect: <see cref="ResidualRowStride"/>, or <see cref="InputRowStride"/> when 0.</summary>
    public int EffectiveResidualRowStride => ResidualRowStride == 0 ? InputRowStride : ResidualRowStride;

    /// <summary>Elements a buffer with this stride must hold: <c>(Rows - 1) * stride + Hidden</c>, or 0 without rows.</summary>
    /// <param name="stride">The buffer's row stride.</param>
    /// <returns>The extent.</returns>
    public long Extent(int stride) => Rows == 0 ? 0 : (long)(Rows - 1) * stride + Hidden;
}
