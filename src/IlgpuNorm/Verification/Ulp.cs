namespace IlgpuNorm.Verification;

/// <summary>Distances in units in the last place (ulp) of the element type.</summary>
public static class Ulp
{
    /// <summary>
    /// How many representable values of <typeparamref name="T"/> lie between <paramref name="actual"/> and
    /// <paramref name="expected"/>. Two NaNs are 0 apart; NaN against a number, or infinities of different sign
    /// against anything else, are <see cref="long.MaxValue"/> apart. +0 and −0 are 0 apart.
    /// </summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="actual">The value computed.</param>
    /// <param name="expected">The value expected.</param>
    /// <returns>The distance in ulp.</returns>
    public static long Distance<T>(T actual, T expected)
        where T : unmanaged
    {
        double a = Elements.ToDouble(actual);
        double e = Elements.ToDouble(expected);
        if (double.IsNaN(a) || double.IsNaN(e))
        {
            return double.IsNaN(a) && double.IsNaN(e) ? 0 : long.MaxValue;
        }

        if (double.IsInfinity(a) || double.IsInfinity(e))
        {
            return a == e ? 0 : long.MaxValue;
        }

        return Math.Abs(Ordinal<T>(a) - Ordinal<T>(e));
    }

    /// <summary>The next representable value of <typeparamref name="T"/> above (or below) <paramref name="value"/>.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="value">A finite value.</param>
    /// <param name="down">True for the next value below.</param>
    /// <returns>The neighbour; NaN and infinities are returned unchanged.</returns>
    public static T Next<T>(T value, bool down)
        where T : unmanaged
    {
        double v = Elements.ToDouble(value);
        if (!double.IsFinite(v))
        {
            return value;
        }

        if (typeof(T) == typeof(double))
        {
            return Elements.FromDouble<T>(down ? Math.BitDecrement(v) : Math.BitIncrement(v));
        }

        if (typeof(T) == typeof(float))
        {
            return Elements.FromDouble<T>(down ? MathF.BitDecrement((float)v) : MathF.BitIncrement((float)v));
        }

        // 16-bit types: step the ordinal.
        long ordinal = Ordinal<T>(v) + (down ? -1 : 1);
        ushort bits = (ushort)(ordinal < 0 ? 0x8000 | -ordinal : ordinal);
        double next = typeof(T) == typeof(BFloat16) ? BFloat16.BitsToSingle(bits) : (double)BitConverter.UInt16BitsToHalf(bits);
        return Elements.FromDouble<T>(next);
    }

    /// <summary>Maps a value of T to an integer that counts representable values (monotonic, −0 = +0).</summary>
    private static long Ordinal<T>(double value)
        where T : unmanaged
    {
        long bits;
        long signBit;
        if (typeof(T) == typeof(double))
        {
            bits = BitConverter.DoubleToInt64Bits(value) & long.MaxValue;
            signBit = BitConverter.DoubleToInt64Bits(value) < 0 ? 1 : 0;
        }
        else if (typeof(T) == typeof(float))
        {
            uint u = BitConverter.SingleToUInt32Bits((float)value);
            bits = u & 0x7FFF_FFFF;
            signBit = u >> 31;
        }
        else if (typeof(T) == typeof(BFloat16))
        {
            ushort u = ((BFloat16)(float)value).RawValue;
            bits = u & 0x7FFF;
            signBit = u >> 15;
        }
        else
        {
            ushort u = BitConverter.HalfToUInt16Bits((Half)value);
            bits = u & 0x7FFF;
            signBit = u >> 15;
        }

        return signBit != 0 ? -bits : bits;
    }
}
