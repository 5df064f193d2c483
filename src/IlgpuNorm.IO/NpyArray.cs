using System.Runtime.InteropServices;

namespace IlgpuNorm.IO;

/// <summary>
/// An array as stored in a <c>.npy</c> file: a little-endian dtype descriptor, a C-order shape and the raw
/// element bytes.
/// </summary>
/// <remarks>
/// The descriptors and the element types they map to: <c>&lt;f4</c> ↔ <see cref="float"/>, <c>&lt;f2</c> ↔
/// <see cref="Half"/>, <c>&lt;f8</c> ↔ <see cref="double"/>, <c>&lt;u2</c> ↔ <see cref="BFloat16"/> (NumPy has no
/// bfloat16, so its bits travel as <c>uint16</c>) or <see cref="ushort"/>. A shape of rank 0 (<c>()</c>) is a
/// scalar: one element.
/// </remarks>
public sealed class NpyArray
{
    private readonly int[] shape;
    private readonly byte[] data;

    /// <summary>Creates an array from its descriptor, shape and little-endian element bytes.</summary>
    /// <param name="descr">The dtype descriptor: <c>&lt;f4</c>, <c>&lt;f2</c>, <c>&lt;f8</c> or <c>&lt;u2</c>.</param>
    /// <param name="shape">The shape, C order; copied.</param>
    /// <param name="data">The element bytes, little-endian, C order; kept, not copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="descr"/> or <paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">The descr is unsupported, or the data's length is not the shape's element count times the element size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public NpyArray(string descr, ReadOnlySpan<int> shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(descr);
        ArgumentNullException.ThrowIfNull(data);
        int itemSize = NpyDescr.ItemSize(descr);
        long count = itemSize > 0 ? ElementCount(shape, nameof(shape)) : throw new ArgumentException(NpyDescr.Unsupported(descr), nameof(descr));
        if (count * itemSize != data.Length)
        {
            throw new ArgumentException(
                $"Expected {count * itemSize} bytes ({count} elements of {descr} for shape {NpyHeader.FormatShape(shape)}); got {data.Length}.", nameof(data));
        }

        Descr = descr;
        this.shape = shape.ToArray();
        this.data = data;
        Length = (int)count;
    }

    /// <summary>The dtype descriptor: <c>&lt;f4</c>, <c>&lt;f2</c>, <c>&lt;f8</c> or <c>&lt;u2</c>.</summary>
    public string Descr { get; }

    /// <summary>The element type the descriptor stands for (<c>&lt;u2</c> is <see cref="ElementType.BFloat16"/>).</summary>
    public ElementType ElementType => NpyDescr.Find(Descr)!.Value.Type;

    /// <summary>The shape, C order; empty for a scalar.</summary>
    public ReadOnlySpan<int> Shape => shape;

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => shape.Length;

    /// <summary>The number of elements: the product of the shape (1 for a scalar).</summary>
    public int Length { get; }

    /// <summary>The raw element bytes, little-endian, C order.</summary>
    public ReadOnlySpan<byte> Data => data;

    /// <summary>Creates an array holding a copy of <paramref name="values"/>, with the descr of <typeparamref name="T"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="double"/>, <see cref="BFloat16"/> or <see cref="ushort"/>.</typeparam>
    /// <param name="values">The elements, C order.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The array.</returns>
    /// <exception cref="ArgumentException">T has no descr, or the number of values is not the shape's element count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static NpyArray Create<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        string descr = NpyDescr.Require<T>(nameof(values));
        long count = ElementCount(shape, nameof(shape));
        if (count != values.Length)
        {
            throw new ArgumentException(
                $"Expected {count} values for shape {NpyHeader.FormatShape(shape)}; got {values.Length}.", nameof(values));
        }

        byte[] bytes = MemoryMarshal.AsBytes(values).ToArray();
        NpyDescr.ToLittleEndian(bytes, NpyDescr.ItemSize(descr));
        return new NpyArray(descr, shape, bytes);
    }

    /// <summary>Copies the elements out as <typeparamref name="T"/>, which must match the descriptor.</summary>
    /// <typeparam name="T"><see cref="float"/> for <c>&lt;f4</c>, <see cref="Half"/> for <c>&lt;f2</c>, <see cref="double"/> for <c>&lt;f8</c>, <see cref="BFloat16"/> or <see cref="ushort"/> for <c>&lt;u2</c>.</typeparam>
    /// <returns>The elements, C order.</returns>
    /// <exception cref="InvalidOperationException">T does not match the descriptor.</exception>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        string? wanted = NpyDescr.Of<T>();
        if (wanted != Descr)
        {
            throw new InvalidOperationException(
                $"The array's descr is '{Descr}' ({ElementTypes.ShortName(ElementType)}); it cannot be read as {typeof(T).Name}" +
                (wanted is null ? "." : $" (descr '{wanted}')."));
        }

        T[] values = MemoryMarshal.Cast<byte, T>(data).ToArray();
        NpyDescr.ToLittleEndian(MemoryMarshal.AsBytes(values.AsSpan()), NpyDescr.ItemSize(Descr));
        return values;
    }

    /// <summary>The shape as NumPy prints it: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    /// <returns>The shape text.</returns>
    public string FormatShape() => NpyHeader.FormatShape(shape);

    /// <inheritdoc />
    public override string ToString() => $"{Descr} {FormatShape()}";

    /// <summary>The product of the dimensions, checked.</summary>
    internal static long ElementCount(ReadOnlySpan<int> shape, string paramName)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentOutOfRangeException(paramName, $"Expected non-negative dimensions; got shape {NpyHeader.FormatShape(shape)}.");
            }

            count *= dim;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"Shape {NpyHeader.FormatShape(shape)} has more than {Array.MaxLength} elements.", paramName);
            }
        }

        return count;
    }
}
