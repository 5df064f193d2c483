namespace IlgpuNorm;

/// <summary>The 8-bit format of a quantized rms_norm output.</summary>
public enum QuantizeFormat
{
    /// <summary>int8, two's complement (<see cref="sbyte"/>), symmetric: -127..127 (-128 is never produced); NaN gives 0.</summary>
    Int8,

    /// <summary>OCP FP8 E4M3FN bytes (see <see cref="Fp8E4M3"/>): bias 7, ±448 saturated, no infinities, NaN written as 0x7F (0xFF also decodes to NaN).</summary>
    Float8E4M3,
}
