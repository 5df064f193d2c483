using IlgpuNorm.Host;
using IlgpuNorm.Kernels;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The kernels' bit-level float16/bfloat16 conversions and the BFloat16 type, against .NET's own IEEE conversions.</summary>
public class ConversionTests
{
    [Fact]
    public void HalfToSingle_IsExact_ForAll65536Encodings()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = HalfBits.HalfToSingle((ushort)bits);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"0x{bits:X4} should stay NaN");
            }
            else
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(actual));
            }
        }
    }

    [Fact]
    public void SingleToHalf_RoundsToNearestEven_LikeSystemHalf()
    {
        var random = new Random(3);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 1e-8f, 5.96e-8f, 2.98e-8f, 2.99e-8f, 6.1e-5f, float.Epsilon, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, 1.00048828125f, 1.000732421875f };
        for (int i = 0; i < 200_000; i++)
        {
            values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        }

        // Every half and every midpoint between neighbours, and their float neighbours.
        for (int bits = 0; bits < 0x7C00; bits++)
        {
            float h = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(bits + 1));
            float mid = (h + next) / 2;
            values.Add(mid);
            values.Add(MathF.BitIncrement(mid));
            values.Add(MathF.BitDecrement(mid));
            values.Add(-mid);
        }

        foreach (float value in values)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((Half)value);
            ushort actual = HalfBits.SingleToHalf(value);
            if (float.IsNaN(value))
            {
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(actual)));
            }
            else
            {
                Assert.True(expected == actual, $"{value:R}: expected 0x{expected:X4}, got 0x{actual:X4}");
            }
        }
    }

    [Fact]
    public void BFloat16_RoundsToNearestEven()
    {
        Assert.Equal(0x3F80, ((BFloat16)1.0f).RawValue);
        Assert.Equal(0x3F80, ((BFloat16)BitConverter.UInt32BitsToSingle(0x3F80_8000)).RawValue); // tie → even (down)
        Assert.Equal(0x3F82, ((BFloat16)BitConverter.UInt32BitsToSingle(0x3F81_8000)).RawValue); // tie → even (up)
        Assert.Equal(0x3F81, ((BFloat16)BitConverter.UInt32BitsToSingle(0x3F80_8001)).RawValue); // above the tie
        Assert.Equal(0x7F80, ((BFloat16)float.MaxValue).RawValue); // overflow → +Inf
        Assert.Equal(0xFF80, ((BFloat16)float.NegativeInfinity).RawValue);
        Assert.True(BFloat16.IsNaN((BFloat16)float.NaN));
        Assert.True(BFloat16.IsNaN(new BFloat16(0x7F81))); // a signalling NaN payload stays NaN
        Assert.True(BFloat16.IsNaN((BFloat16)BitConverter.UInt32BitsToSingle(0x7F80_0001)));
        Assert.Equal(0x8000, ((BFloat16)(-0f)).RawValue);
    }

    [Fact]
    public void BFloat16_KernelHostAndTypeConversions_Agree_OnRandomAndEdgeBits()
    {
        var random = new Random(9);
        var source = new float[100_003];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32));
        }

        source[0] = float.NaN;
        source[1] = BitConverter.UInt32BitsToSingle(0x3F80_8000);
        var host = new ushort[source.Length];
        HostStorage.Narrow<ushort, float, BFloat16Storage>(source, host);
        var widened = new float[source.Length];
        HostStorage.Widen<ushort, float, BFloat16Storage>(host, widened);
        for (int i = 0; i < source.Length; i++)
        {
            ushort expected = BFloat16.RoundToBits(source[i]);
            Assert.Equal(expected, host[i]);
            Assert.Equal(BitConverter.SingleToUInt32Bits(BFloat16.BitsToSingle(expected)), BitConverter.SingleToUInt32Bits(widened[i]));
        }
    }

    [Fact]
    public void BFloat16_FromDouble_RoundsOnce()
    {
        // 1 + 2^-8 + 2^-30 lies just above the tie between 1 and 1 + 2^-7: one rounding goes up,
        // rounding to float32 first would land on the tie and go down to even.
        double value = 1 + Math.Pow(2, -8) + Math.Pow(2, -30);
        Assert.Equal(0x3F81, Elements.RoundToBFloat16(value).RawValue);
        Assert.Equal(0x3F80, Elements.RoundToBFloat16(1 + Math.Pow(2, -8)).RawValue);
        Assert.Equal(0xBF81, Elements.RoundToBFloat16(-value).RawValue);
    }

    [Fact]
    public void BFloat16_ValueSemantics()
    {
        var a = (BFloat16)1.5f;
        Assert.Equal(1.5f, (float)a);
        Assert.Equal(a, new BFloat16(a.RawValue));
        Assert.True(a > (BFloat16)1f);
        Assert.Equal("1.5", a.ToString());
    }
}
