using System.Globalization;
using System.Runtime.CompilerServices;

namespace IlgpuNorm;

/// <summary>
/// A brain floating-point number (bfloat16): the upper 16 bits of an IEEE 754 float32
/// (1 sign bit, 8 exponent bits, 7 mantissa bits).
/// </summary>
/// <remarks>
/// Conversion from <see cref="float"/> rounds to nearest, ties to even; NaN stays NaN (quiet,
/// sign kept); values past the largest finite bfloat16 round to ±Infinity. Conversion to
/// <see cref="float"/> is exact. NumPy has no bfloat16: <c>.npy</c> files carry it as <c>&lt;u2</c> bits.
/// </remarks>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>
{
    /// <summary>Creates a value from its raw 16 bits.</summary>
    /// <param name="bits">The bits: the upper half of the float32 encoding.</param>
    public BFloat16(ushort bits) => RawValue = bits;

    /// <summary>The raw 16-bit encoding.</summary>
    public ushort RawValue { get; }

    /// <summary>Positive zero.</summary>
    public static BFloat16 Zero => new(0);

    /// <summary>A quiet NaN.</summary>
    public static BFloat16 NaN => new(0x7FC0);

    /// <summary>Positive infinity.</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);

    /// <summary>Negative infinity.</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);

    /// <summary>The largest finite value, about 3.39e38.</summary>
    public static BFloat16 MaxValue => new(0x7F7F);

    /// <summary>The distance from 1 to the next larger value (2^-7).</summary>
    public static BFloat16 Epsilon => new(0x3C00);

    /// <summary>Whether the value is NaN.</summary>
    /// <param name="value">The value to test.</param>
    /// <returns><see langword="true"/> for any NaN encoding.</returns>
    public static bool IsNaN(BFloat16 value) => (value.RawValue & 0x7FFF) > 0x7F80;

    /// <summary>Rounds a float32 to the nearest bfloat16, ties to even.</summary>
    /// <param name="value">The value to round.</param>
    /// <returns>The bits of the rounded value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort RoundToBits(float value)
    {
        uint bits = ILGPU.Interop.FloatAsInt(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            return (ushort)((bits >> 16) | 0x0040u); // quiet NaN, sign and payload top kept
        }

        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Widens bfloat16 bits to float32 exactly.</summary>
    /// <param name="bits">The bfloat16 bits.</param>
    /// <returns>The float32 value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BitsToSingle(ushort bits) => ILGPU.Interop.IntAsFloat((uint)bits << 16);

    /// <summary>Rounds a float32 to the nearest bfloat16, ties to even.</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(float value) => new(RoundToBits(value));

    /// <summary>Rounds a float64 to bfloat16 (through float32; the double rounding is exact except for ties created by the first rounding).</summary>
    /// <param name="value">The value.</param>
    public static explicit operator BFloat16(double value) => new(RoundToBits((float)value));

    /// <summary>Widens to float32 exactly.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator float(BFloat16 value) => BitsToSingle(value.RawValue);

    /// <summary>Widens to float64 exactly.</summary>
    /// <param name="value">The value.</param>
    public static implicit operator double(BFloat16 value) => BitsToSingle(value.RawValue);

    /// <summary>Rounds a float32 to bfloat16 (named alternative to the cast).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The rounded value.</returns>
    public static BFloat16 FromSingle(float value) => (BFloat16)value;

    /// <summary>Widens to float32 (named alternative to the cast).</summary>
    /// <returns>The exact float32 value.</returns>
    public float ToSingle() => this;

    /// <inheritdoc />
    public bool Equals(BFloat16 other) => RawValue == other.RawValue;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => RawValue;

    /// <inheritdoc />
    public int CompareTo(BFloat16 other) => ToSingle().CompareTo(other.ToSingle());

    /// <inheritdoc />
    public override string ToString() => ToSingle().ToString(CultureInfo.InvariantCulture);

    /// <summary>Bitwise equality (NaN equals itself when the bits match).</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>Whether the encodings match.</returns>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    /// <summary>Bitwise inequality.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>Whether the encodings differ.</returns>
    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);

    /// <summary>Numeric less-than.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>The comparison.</returns>
    public static bool operator <(BFloat16 left, BFloat16 right) => left.ToSingle() < right.ToSingle();

    /// <summary>Numeric greater-than.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>The comparison.</returns>
    public static bool operator >(BFloat16 left, BFloat16 right) => left.ToSingle() > right.ToSingle();

    /// <summary>Numeric less-or-equal.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>The comparison.</returns>
    public static bool operator <=(BFloat16 left, BFloat16 right) => left.ToSingle() <= right.ToSingle();

    /// <summary>Numeric greater-or-equal.</summary>
    /// <param name="left">The left value.</param>
    /// <param name="right">The right value.</param>
    /// <returns>The comparison.</returns>
    public static bool operator >=(BFloat16 left, BFloat16 right) => left.ToSingle() >= right.ToSingle();
}
