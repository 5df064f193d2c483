using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace IlgpuNorm.Host;

/// <summary>
/// <see cref="Fp8E4M3.Encode"/> over a span, 32 values per step with Vector256 integer arithmetic (the same bit
/// manipulation, with selects in place of branches), and the scalar encoder for the tail or without Vector256;
/// <see cref="Encode16"/> is the same on 16 lanes of a Vector512 (the fused host quantizer's encoder).
/// </summary>
internal static class HostQuantizeFp8Vectors
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Encode(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float s = ref MemoryMarshal.GetReference(source);
            ref byte d = ref MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - 32; i += 32)
            {
                var a = Encode8(Vector256.LoadUnsafe(ref s, (nuint)i));
                var b = Encode8(Vector256.LoadUnsafe(ref s, (nuint)(i + 8)));
                var c = Encode8(Vector256.LoadUnsafe(ref s, (nuint)(i + 16)));
                var e = Encode8(Vector256.LoadUnsafe(ref s, (nuint)(i + 24)));
                Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, e)).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = Fp8E4M3.Encode(source[i]);
        }
    }

    /// <summary>Sixteen codes, one per uint lane (bit for bit <see cref="Fp8E4M3.Encode"/>).</summary>
    /// <param name="value">The scaled values.</param>
    /// <returns>The codes, zero-extended.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Encode16(Vector512<float> value)
    {
        // As Encode8, two instructions shorter: the rebias is folded into the rounding add (lanes below the normal range,
        // where it wraps, take the subnormal code), and the saturation at 0x7E (448, +Inf included) is an unsigned
        // minimum, since the normal code grows with the magnitude.
        var bits = value.AsUInt32();
        var magnitude = bits & Vector512.Create(0x7FFF_FFFFu);
        var sign = (bits >> 24) & Vector512.Create(0x80u);
        var normal = Vector512.Min((magnitude + Vector512.Create(unchecked(0x7FFFFu - ((127u - 7u) << 23))) + ((magnitude >> 20) & Vector512<uint>.One)) >> 20, Vector512.Create(0x7Eu));
        var subnormal = (magnitude.AsSingle() + Vector512.Create(16384f)).AsUInt32() - Vector512.Create(0x4680_0000u);
        var code = Vector512.ConditionalSelect(Vector512.LessThan(magnitude, Vector512.Create(0x3C80_0000u)), subnormal, normal) | sign;
        return Vector512.ConditionalSelect(Vector512.GreaterThan(magnitude, Vector512.Create(0x7F80_0000u)), Vector512.Create(0x7Fu), code);
    }

    /// <summary>Eight codes, one per uint lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Encode8(Vector256<float> value)
    {
        var bits = value.AsUInt32();
        var magnitude = bits & Vector256.Create(0x7FFF_FFFFu);
        var sign = (bits >> 24) & Vector256.Create(0x80u);
        var normal = ((magnitude + Vector256.Create(0x7FFFFu) + ((magnitude >> 20) & Vector256<uint>.One)) >> 20) - Vector256.Create((127u - 7u) << 3);
        var subnormal = (magnitude.AsSingle() + Vector256.Create(16384f)).AsUInt32() - Vector256.Create(0x4680_0000u);
        var code = Vector256.ConditionalSelect(Vector256.LessThan(magnitude, Vector256.Create(0x3C80_0000u)), subnormal, normal);
        code = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x43E0_0000u)), Vector256.Create(0x7Eu), code) | sign;
        return Vector256.ConditionalSelect(Vector256.GreaterThan(magnitude, Vector256.Create(0x7F80_0000u)), Vector256.Create(0x7Fu), code);
    }
}
