using ILGPU;

namespace IlgpuNorm;

/// <summary>
/// OCP FP8 E4M3FN bytes (NVIDIA's and PyTorch's <c>float8_e4m3fn</c>): 1 sign bit, 4 exponent bits with bias 7,
/// 3 mantissa bits; no infinities; NaN is <c>0x7F</c> / <c>0xFF</c>; the largest finite value is 448 (<c>0x7E</c>).
/// </summary>
/// <remarks>
/// <para><see cref="Encode"/> rounds to nearest even and saturates: every value of magnitude above 448, ±Inf
/// included, becomes ±448 (as <c>__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3)</c> and vLLM's clamped
/// conversion do); every NaN becomes <c>0x7F</c> (whatever its sign, so that backends agree; <c>0xFF</c> decodes to NaN too); subnormals (multiples of 2^-9 below 2^-6) are kept;
/// the sign of zero is kept.</para>
/// <para>The methods are branch-light integer arithmetic, so the same code runs in the ILGPU kernels.</para>
/// </remarks>
public static class Fp8E4M3
{
    /// <summary>The largest finite magnitude, 448.</summary>
    public const float MaxValue = 448f;

    /// <summary>The NaN byte <see cref="Encode"/> writes, 0x7F (0xFF is also NaN when decoded).</summary>
    public const byte NaN = 0x7F;

    /// <summary>Rounds a float32 to the nearest E4M3FN byte (ties to even), saturating at ±448; NaN gives 0x7F.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The E4M3FN byte.</returns>
    public static byte Encode(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        uint sign = (bits >> 24) & 0x80u;
        uint magnitude = bits & 0x7FFF_FFFFu;
        uint code;
        if (magnitude > 0x7F80_0000u)
        {
            code = 0x7Fu;
            sign = 0; // one NaN byte whatever the NaN's sign (x86 makes negative NaNs, GPUs positive ones)
        }
        else if (magnitude >= 0x43E0_0000u)
        {
            code = 0x7Eu; // >= 448 (and +Inf): saturate
        }
        else if (magnitude < 0x3C80_0000u)
        {
            // Below 2^-6: a multiple of 2^-9. Adding 2^14 leaves 2^-9 as the float32 unit, so the float addition rounds to
            // nearest even; the result 0..8 is the byte itself (8 = 2^-6, the smallest normal, encodes as 0x08).
            code = Interop.FloatAsInt(Interop.IntAsFloat(magnitude) + 16384f) - 0x4680_0000u;
        }
        else
        {
            // Normal: round the 23-bit mantissa to 3 bits (nearest even), then rebias the exponent from 127 to 7.
            uint rounded = (magnitude + 0x7FFFFu + ((magnitude >> 20) & 1u)) >> 20;
            code = rounded - ((127u - 7u) << 3);
        }

        return (byte)(code | sign);
    }

    /// <summary>Widens an E4M3FN byte to float32 exactly (0x7F and 0xFF give NaN).</summary>
    /// <param name="value">The byte.</param>
    /// <returns>The value.</returns>
    public static float Decode(byte value)
    {
        uint magnitude = value & 0x7Fu;
        uint exponent = magnitude >> 3;
        uint mantissa = magnitude & 7u;
        float result;
        if (magnitude == 0x7Fu)
        {
            result = Interop.IntAsFloat(0x7FC0_0000u); // a positive quiet NaN (float.NaN has the sign bit set)
        }
        else if (exponent == 0)
        {
            result = mantissa * (1f / 512f);
        }
        else
        {
            result = Interop.IntAsFloat(((exponent + 127u - 7u) << 23) | (mantissa << 20));
        }

        return (value & 0x80) != 0 ? -result : result;
    }
}
