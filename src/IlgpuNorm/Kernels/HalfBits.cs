using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// float16 carried as ushort bits and converted with integer arithmetic (as bfloat16 is by <see cref="BFloat16"/>), so
/// that the same kernel compiles on devices without fp16 and rounds to nearest even everywhere (ILGPU's own
/// <c>(Half)float</c> truncates on the CPU accelerator).
/// </summary>
internal static class HalfBits
{
    /// <summary>Exact float16 → float32 (subnormals, ±Inf and NaN kept).</summary>
    public static float HalfToSingle(ushort h)
    {
        const uint ShiftedExponent = 0x7C00u << 13;
        uint o = (uint)(h & 0x7FFF) << 13;
        uint exponent = ShiftedExponent & o;
        o += (127 - 15) << 23;
        if (exponent == ShiftedExponent)
        {
            o += (128 - 16) << 23; // Inf / NaN
        }
        else if (exponent == 0)
        {
            // Subnormal: renormalize through one exact float subtraction.
            o += 1 << 23;
            o = Interop.FloatAsInt(Interop.IntAsFloat(o) - Interop.IntAsFloat(113u << 23));
        }

        return Interop.IntAsFloat(o | ((uint)(h & 0x8000) << 16));
    }

    /// <summary>float32 → float16, round to nearest even; overflow gives ±Inf, NaN stays a quiet NaN.</summary>
    public static ushort SingleToHalf(float value)
    {
        uint f = Interop.FloatAsInt(value);
        uint sign = (f >> 16) & 0x8000u;
        f &= 0x7FFF_FFFFu;
        uint o;
        if (f >= (127 + 16) << 23)
        {
            o = f > 0x7F80_0000u ? 0x7E00u : 0x7C00u;
        }
        else if (f < 113u << 23)
        {
            // Result is subnormal or zero: let one float addition do the rounding.
            const uint DenormMagic = ((127 - 15) + (23 - 10) + 1) << 23;
            o = Interop.FloatAsInt(Interop.IntAsFloat(f) + Interop.IntAsFloat(DenormMagic)) - DenormMagic;
        }
        else
        {
            uint mantissaOdd = (f >> 13) & 1u;
            f += unchecked((uint)((15 - 127) << 23)) + 0xFFFu + mantissaOdd;
            o = f >> 13;
        }

        return (ushort)(o | sign);
    }
}
