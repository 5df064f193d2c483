namespace IlgpuNorm.Kernels;

/// <summary>An 8-bit output format of the quantized rms_norm (an empty struct, so ILGPU inlines it).</summary>
internal interface IQuantFormat
{
    /// <summary>The largest code magnitude (127 or 448).</summary>
    float QMax { get; }

    /// <summary>The smallest dynamic scale.</summary>
    float MinScale { get; }

    /// <summary>The byte of an already scaled value, rounded to nearest even and saturated.</summary>
    byte Encode(float scaled);
}

/// <summary>int8: round to nearest even, saturate to ±127, NaN → 0; stored as the two's-complement byte.</summary>
internal readonly struct Int8Format : IQuantFormat
{
    /// <summary>1.5 · 2^23: adding and subtracting it rounds a float32 below 2^22 in magnitude to an integer, ties to even.</summary>
    private const float RoundingMagic = 12582912f;

    public float QMax => QuantizeOptions.Int8Max;

    public float MinScale => QuantizeOptions.Int8MinScale;

    public byte Encode(float scaled)
    {
        // Comparisons with NaN are false, so NaN passes the clamps and is zeroed at the end (branch-free for PoCL).
        float c = scaled > 127f ? 127f : scaled;
        c = c < -127f ? -127f : c;
        float rounded = (c + RoundingMagic) - RoundingMagic;
        int code = float.IsNaN(scaled) ? 0 : (int)rounded;
        return (byte)(code & 0xFF);
    }
}

/// <summary>FP8 E4M3FN via <see cref="Fp8E4M3.Encode"/>.</summary>
internal readonly struct Float8E4M3Format : IQuantFormat
{
    public float QMax => Fp8E4M3.MaxValue;

    public float MinScale => QuantizeOptions.Float8MinScale;

    public byte Encode(float scaled) => Fp8E4M3.Encode(scaled);
}
