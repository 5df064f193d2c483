namespace IlgpuNorm.Verification;

/// <summary>Distances in units in the last place (ulp) of the element type.</summary>
/// <remarks>One helper for every dtype: a finite value maps to its ordinal (the count of representable magnitudes below it,
/// negated below zero), computed from the dtype's mantissa width and least normal exponent in <see cref="Tolerance"/>'s table;
/// that is the value's bits without the sign bit.</remarks>
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

        var format = Tolerance.Format(ElementTypes.Require<T>(nameof(actual)));
        return Math.Abs(Ordinal(a, format.Mantissa, format.MinExponent) - Ordinal(e, format.Mantissa, format.MinExponent));
    }

    /// <summary>The next representable value of <typeparamref name="T"/> above (or below) <paramref name="value"/>.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="value">A finite value.</param>
    /// <param name="down">True for the next value below.</param>
    /// <returns>The neighbour; NaN and infinities are returned unchanged.</returns>
    public static T Next<T>(T value, bool down)
        where T : unmanaged => Step(value, down ? -1 : 1);

    /// <summary><paramref name="value"/> moved <paramref name="step"/> representable values (past the largest finite one: infinity).</summary>
    internal static T Step<T>(T value, long step)
        where T : unmanaged
    {
        double v = Elements.ToDouble(value);
        if (!double.IsFinite(v) || step == 0)
        {
            return value;
        }

        var (mantissa, minExponent, _) = Tolerance.Format(ElementTypes.Require<T>(nameof(value)));
        long ordinal = Ordinal(v, mantissa, minExponent) + step;
        long magnitude = Math.Abs(ordinal);
        long biased = magnitude >> mantissa;
        double next = biased == 0
            ? Math.ScaleB(magnitude, minExponent - mantissa)
            : Math.ScaleB((magnitude & ((1L << mantissa) - 1)) | (1L << mantissa), minExponent + (int)biased - 1 - mantissa);

        // Landing on zero: float and double keep the sign they came from (as Math.BitIncrement), the 16-bit types give +0.
        bool signedZero = ordinal == 0 && (typeof(T) == typeof(double) || typeof(T) == typeof(float));
        return Elements.FromDouble<T>(signedZero ? Math.CopySign(0, v) : ordinal < 0 ? -next : next);
    }

    /// <summary>The ordinal of a finite value: its bits without the sign bit, negated below zero (−0 = +0 = 0).</summary>
    private static long Ordinal(double value, int mantissa, int minExponent)
    {
        double a = Math.Abs(value);
        int exponent = Math.Max(Math.ILogB(a), minExponent);
        long ordinal = ((long)(exponent - minExponent) << mantissa) + (long)Math.ScaleB(a, mantissa - exponent);
        return value < 0 ? -ordinal : ordinal;
    }
}
