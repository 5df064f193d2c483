
namespace IlgpuNorm.Kernels;

/// <summary>float32: accumulate, divide and scale in float32.</summary>
internal readonly struct Float32Codec : IRmsCodec<float, float>
{
    public float AddSquare(float acc, float x) => acc + x * x;

    public float Add(float a, float b) => a + b;

    public float Denominator(float sumOfSquares, int n, double epsilon) =>
        MathF.Sqrt(sumOfSquares / n + (float)epsilon);

    public float Normalize(float x, float denominator) => x / denominator;

    public float NormalizeScale(float x, float denominator, float weight) => x / denominator * weight;
}

/// <summary>
/// float64: all math in float64. The sum of squares is compensated (Neumaier), so a row's float64 result
/// is as accurate as the division and square root allow, whatever the row length.
/// </summary>
internal readonly struct Float64Codec : IRmsCodec<double, CompensatedSum>
{
    public CompensatedSum AddSquare(CompensatedSum acc, double x) => acc.Add(x * x);

    public CompensatedSum Add(CompensatedSum a, CompensatedSum b) => a.Add(b.Sum).Add(b.Error);

    public double Normalize(double x, CompensatedSum denominator) => x / denominator.Sum;

    public double NormalizeScale(double x, CompensatedSum denominator, double weight) => x / denominator.Sum * weight;

    public CompensatedSum Denominator(CompensatedSum sumOfSquares, int n, double epsilon) =>
        new(Math.Sqrt(sumOfSquares.Value / n + epsilon), 0);
}

/// <summary>float16 as bits: float32 math, rounded to float16, then times the weight rounded again.</summary>
internal readonly struct Float16Codec : IRmsCodec<ushort, float>
{
    public float AddSquare(float acc, ushort x)
    {
        float v = HalfBits.HalfToSingle(x);
        return acc + v * v;
    }

    public float Add(float a, float b) => a + b;

    public float Denominator(float sumOfSquares, int n, double epsilon) =>
        MathF.Sqrt(sumOfSquares / n + (float)epsilon);

    public ushort Normalize(ushort x, float denominator) =>
        HalfBits.SingleToHalf(HalfBits.HalfToSingle(x) / denominator);

    // The product of two float16 values is exact in float32, so one rounding gives the float16 product.
    public ushort NormalizeScale(ushort x, float denominator, ushort weight) =>
        HalfBits.SingleToHalf(HalfBits.HalfToSingle(Normalize(x, denominator)) * HalfBits.HalfToSingle(weight));
}

/// <summary>bfloat16 as bits: float32 math, rounded to bfloat16, then times the weight rounded again.</summary>
internal readonly struct BFloat16Codec : IRmsCodec<ushort, float>
{
    public float AddSquare(float acc, ushort x)
    {
        float v = HalfBits.BFloat16ToSingle(x);
        return acc + v * v;
    }

    public float Add(float a, float b) => a + b;

    public float Denominator(float sumOfSquares, int n, double epsilon) =>
        MathF.Sqrt(sumOfSquares / n + (float)epsilon);

    public ushort Normalize(ushort x, float denominator) =>
        HalfBits.SingleToBFloat16(HalfBits.BFloat16ToSingle(x) / denominator);

    // The product of two bfloat16 values is exact in float32 (short of float32 underflow).
    public ushort NormalizeScale(ushort x, float denominator, ushort weight) =>
        HalfBits.SingleToBFloat16(HalfBits.BFloat16ToSingle(Normalize(x, denominator)) * HalfBits.BFloat16ToSingle(weight));
}
