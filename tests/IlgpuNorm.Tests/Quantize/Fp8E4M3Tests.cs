using IlgpuNorm.Kernels;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>The FP8 E4M3FN and int8 encoders against the float64 reference rounding.</summary>
public class Fp8E4M3Tests
{
    [Fact]
    public void EveryByte_DecodesAndEncodesBack()
    {
        for (int b = 0; b < 256; b++)
        {
            float value = Fp8E4M3.Decode((byte)b);
            if ((b & 0x7F) == 0x7F)
            {
                Assert.True(float.IsNaN(value), $"0x{b:X2} should be NaN");
                Assert.Equal(Fp8E4M3.NaN, Fp8E4M3.Encode(value)); // one NaN byte
            }
            else
            {
                Assert.Equal((byte)b, Fp8E4M3.Encode(value));
            }
        }

        Assert.Equal(448f, Fp8E4M3.Decode(0x7E));
        Assert.Equal(MathF.ScaleB(1, -9), Fp8E4M3.Decode(0x01));
        Assert.Equal(MathF.ScaleB(1, -6), Fp8E4M3.Decode(0x08));
    }

    [Fact]
    public void MidpointsBetweenNeighbours_RoundToEven_AndJustAside_RoundToTheNearer()
    {
        for (int b = 0; b < 0x7E; b++)
        {
            float low = Fp8E4M3.Decode((byte)b), high = Fp8E4M3.Decode((byte)(b + 1));
            float mid = (low + high) / 2; // exact in float32
            byte even = (b & 1) == 0 ? (byte)b : (byte)(b + 1);
            Assert.Equal(even, Fp8E4M3.Encode(mid));
            Assert.Equal((byte)(even | 0x80), Fp8E4M3.Encode(-mid));
            Assert.Equal((byte)b, Fp8E4M3.Encode(MathF.BitDecrement(mid)));
            Assert.Equal((byte)(b + 1), Fp8E4M3.Encode(MathF.BitIncrement(mid)));
        }
    }

    [Fact]
    public void Saturation_NaN_Inf_AndSignedZero()
    {
        Assert.Equal(0x7E, Fp8E4M3.Encode(448f));
        Assert.Equal(0x7E, Fp8E4M3.Encode(463.99f));
        Assert.Equal(0x7E, Fp8E4M3.Encode(1e30f));
        Assert.Equal(0x7E, Fp8E4M3.Encode(float.PositiveInfinity));
        Assert.Equal(0xFE, Fp8E4M3.Encode(float.NegativeInfinity));
        Assert.Equal(0x7F, Fp8E4M3.Encode(float.NaN));
        Assert.Equal(0x7F, Fp8E4M3.Encode(-float.NaN));
        Assert.Equal(0x00, Fp8E4M3.Encode(0f));
        Assert.Equal(0x80, Fp8E4M3.Encode(-0f));
        Assert.Equal(0x00, Fp8E4M3.Encode(MathF.ScaleB(1, -11))); // a quarter of the smallest subnormal
        Assert.Equal(0x00, Fp8E4M3.Encode(MathF.ScaleB(1, -10))); // half of it: a tie, to even (0)
        Assert.Equal(0x01, Fp8E4M3.Encode(MathF.BitIncrement(MathF.ScaleB(1, -10))));
    }

    [Fact]
    public void RandomFloats_MatchTheReferenceRounding()
    {
        var random = new Random(3);
        for (int i = 0; i < 200_000; i++)
        {
            float v = (float)(Math.ScaleB(random.NextDouble() * 2 - 1, random.Next(-14, 12)));
            Assert.Equal(QuantReference.Quantize(v, QuantizeFormat.Float8E4M3), Fp8E4M3.Decode(Fp8E4M3.Encode(v)));
            Assert.Equal(QuantReference.Quantize(v * 64, QuantizeFormat.Int8), (sbyte)default(Int8Format).Encode(v * 64));
        }
    }

    [Fact]
    public void Int8_RoundsToEven_Saturates_AndZeroesNaN()
    {
        var format = default(Int8Format);
        Assert.Equal(2, (sbyte)format.Encode(2.5f));
        Assert.Equal(-2, (sbyte)format.Encode(-2.5f));
        Assert.Equal(4, (sbyte)format.Encode(3.5f));
        Assert.Equal(127, (sbyte)format.Encode(126.6f));
        Assert.Equal(127, (sbyte)format.Encode(1e9f));
        Assert.Equal(-127, (sbyte)format.Encode(-128f));
        Assert.Equal(-127, (sbyte)format.Encode(float.NegativeInfinity));
        Assert.Equal(0, (sbyte)format.Encode(float.NaN));
    }

    [Fact]
    public void VectorizedHostEncoder_MatchesTheScalarEncoder_OnEveryClassOfValue()
    {
        var random = new Random(11);
        var values = new List<float> { 0f, -0f, float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, 448f, 463.99f, 464f, -1e30f, float.Epsilon, 1e-30f };
        for (int b = 0; b < 0x7E; b++)
        {
            float low = Fp8E4M3.Decode((byte)b), high = Fp8E4M3.Decode((byte)(b + 1)), mid = (low + high) / 2;
            values.AddRange([mid, -mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid), low, -high]);
        }

        while (values.Count < 100_003)
        {
            values.Add((float)Math.ScaleB(random.NextDouble() * 2 - 1, random.Next(-20, 12)));
        }

        var source = values.ToArray();
        var vector = new byte[source.Length];
        IlgpuNorm.Host.HostQuantize.EncodeFp8(source, vector);
        for (int i = 0; i < source.Length; i++)
        {
            Assert.True(Fp8E4M3.Encode(source[i]) == vector[i], $"{source[i]:R}: scalar 0x{Fp8E4M3.Encode(source[i]):X2}, vector 0x{vector[i]:X2}");
        }
    }
}
