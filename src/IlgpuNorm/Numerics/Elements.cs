using System.Runtime.CompilerServices;

namespace IlgpuNorm;

/// <summary>Converts supported element types to and from float64 (exact widening; narrowing rounds to nearest even).</summary>
public static class Elements
{
    /// <summary>Widens an element to float64 exactly.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The value as float64.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<T, float>(ref value);
        if (typeof(T) == typeof(double)) return Unsafe.As<T, double>(ref value);
        if (typeof(T) == typeof(Half) || typeof(T) == typeof(ILGPU.Half)) return (double)Unsafe.As<T, Half>(ref value);
        if (typeof(T) == typeof(BFloat16)) return Unsafe.As<T, BFloat16>(ref value);
        throw new NotSupportedException($"Element type {typeof(T).Name} is not supported.");
    }

    /// <summary>Rounds a float64 to <typeparamref name="T"/>, to nearest even (bfloat16 goes through float32).</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The rounded value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { float v = (float)value; return Unsafe.As<float, T>(ref v); }
        if (typeof(T) == typeof(double)) return Unsafe.As<double, T>(ref value);
        if (typeof(T) == typeof(Half) || typeof(T) == typeof(ILGPU.Half)) { Half v = (Half)value; return Unsafe.As<Half, T>(ref v); }
        if (typeof(T) == typeof(BFloat16)) { BFloat16 v = RoundToBFloat16(value); return Unsafe.As<BFloat16, T>(ref v); }
        throw new NotSupportedException($"Element type {typeof(T).Name} is not supported.");
    }

    /// <summary>Rounds a float64 to bfloat16 in one step (no double rounding through float32).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The nearest bfloat16, ties to even.</returns>
    public static BFloat16 RoundToBFloat16(double value)
    {
        float f = (float)value;
        if (!float.IsFinite(f) || f == 0f)
        {
            return (BFloat16)f;
        }

        // Round toward zero to float32 first, keeping a sticky bit, so the final rounding is correct.
        uint bits = BitConverter.SingleToUInt32Bits(f);
        double back = f;
        if (Math.Abs(back) > Math.Abs(value))
        {
            bits--; // f was rounded away from zero: step back toward zero
        }

        if ((double)BitConverter.UInt32BitsToSingle(bits) != value)
        {
            bits |= 1; // sticky: the value lies strictly between
        }

        return (BFloat16)BitConverter.UInt32BitsToSingle(bits);
    }
}
