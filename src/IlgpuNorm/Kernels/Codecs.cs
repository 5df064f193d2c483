namespace IlgpuNorm.Kernels;

/// <summary>float32: accumulate, divide and scale in float32.</summary>
internal readonly struct Float32Codec : IRmsCodec<float, CompensatedSingle>
{
    public CompensatedSingle AddSquare(CompensatedSingle acc, float x) => acc.Add(x * x);

    public CompensatedSingle Add(CompensatedSingle a, CompensatedSingle b) => a.Add(b.Sum).Add(b.Error);

    public CompensatedSingle Denominator(CompensatedSingle sumOfSquares, int n, double epsilon) =>
        new(MathF.Sqrt(sumOfSquares.Value / n + (float)epsilon), 0);

    public float Normalize(float x, CompensatedSingle denominator) => x / denominator.Sum;

    public float NormalizeScale(float x, CompensatedSingle denominator, float weight) => x / denominator.Sum * weight;

    public float AddResidual(float x, float residual) => x + residual;

    public CompensatedSingle Reciprocal(CompensatedSingle denominator) => new(1f / denominator.Sum, 0);

    public float Apply<TSteps>(float x, CompensatedSingle scale, float weight, float bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps
    {
        // float32 is the compute type: TensorRtLlm and WeightInFloat32 are the same operations.
        float y = default(TSteps).MultipliesByReciprocal ? x * scale.Sum : x / scale.Sum;
        if (hasWeight != 0)
        {
            y *= offset + weight;
        }

        if (hasBias != 0)
        {
            y += bias;
        }

        return y;
    }

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

    public double AddResidual(double x, double residual) => x + residual;

    public CompensatedSum Reciprocal(CompensatedSum denominator) => new(1.0 / denominator.Sum, 0);

    public double Apply<TSteps>(double x, CompensatedSum scale, double weight, double bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps
    {
        // float64 is both the storage and the compute type: the policies differ only in x / d against x * (1 / d).
        double y = default(TSteps).MultipliesByReciprocal ? x * scale.Sum : x / scale.Sum;
        if (hasWeight != 0)
        {
            y *= offset + weight;
        }

        if (hasBias != 0)
        {
            y += bias;
        }

        return y;
    }

    public CompensatedSum Denominator(CompensatedSum sumOfSquares, int n, double epsilon) =>
        new(Math.Sqrt(sumOfSquares.Value / n + epsilon), 0);

}

/// <summary>How a 16-bit float format widens to float32 and rounds back (instance methods: ILGPU inlines them).</summary>
internal interface ISixteenBitFormat
{
    float ToSingle(ushort bits);

    ushort FromSingle(float value);
}

/// <summary>IEEE float16 bits.</summary>
internal readonly struct Float16Format : ISixteenBitFormat
{
    public float ToSingle(ushort bits) => HalfBits.HalfToSingle(bits);

    public ushort FromSingle(float value) => HalfBits.SingleToHalf(value);
}

/// <summary>bfloat16 bits.</summary>
internal readonly struct BFloat16Format : ISixteenBitFormat
{
    public float ToSingle(ushort bits) => HalfBits.BFloat16ToSingle(bits);

    public ushort FromSingle(float value) => HalfBits.SingleToBFloat16(value);
}

/// <summary>
/// float16 or bfloat16 as bits: float32 math, rounded to the format, then times the weight rounded again.
/// The product of two 16-bit values is exact in float32 (short of float32 underflow for bfloat16), so one
/// rounding gives the correctly rounded product in the format.
/// </summary>
internal readonly struct SixteenBitCodec<TFormat> : IRmsCodec<ushort, CompensatedSingle>
    where TFormat : struct, ISixteenBitFormat
{
    public CompensatedSingle AddSquare(CompensatedSingle acc, ushort x)
    {
        float v = default(TFormat).ToSingle(x);
        return acc.Add(v * v);
    }

    public CompensatedSingle Add(CompensatedSingle a, CompensatedSingle b) => a.Add(b.Sum).Add(b.Error);

    public CompensatedSingle Denominator(CompensatedSingle sumOfSquares, int n, double epsilon) =>
        new(MathF.Sqrt(sumOfSquares.Value / n + (float)epsilon), 0);

    public ushort Normalize(ushort x, CompensatedSingle denominator) =>
        default(TFormat).FromSingle(default(TFormat).ToSingle(x) / denominator.Sum);

    public ushort NormalizeScale(ushort x, CompensatedSingle denominator, ushort weight) =>
        default(TFormat).FromSingle(default(TFormat).ToSingle(Normalize(x, denominator)) * default(TFormat).ToSingle(weight));

    public ushort AddResidual(ushort x, ushort residual) =>
        default(TFormat).FromSingle(default(TFormat).ToSingle(x) + default(TFormat).ToSingle(residual));

    public CompensatedSingle Reciprocal(CompensatedSingle denominator) => new(Round(1f / denominator.Sum), 0);

    public ushort Apply<TSteps>(ushort x, CompensatedSingle scale, ushort weight, ushort bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps
    {
        TFormat format = default;
        TSteps steps = default;
        float y;
        if (steps.RoundsOnce)
        {
            // WeightInFloat32: float32 to the end, one rounding.
            y = format.ToSingle(x) / scale.Sum;
            if (hasWeight != 0)
            {
                y *= offset + format.ToSingle(weight);
            }

            if (hasBias != 0)
            {
                y += format.ToSingle(bias);
            }
        }
        else
        {
            // TensorRtLlm: (T)(x / d), InputDtype: (T)(x * rstd); then each step rounded to T (InputDtype's weight too).
            bool inputDtype = steps.MultipliesByReciprocal;
            y = Round(inputDtype ? format.ToSingle(x) * scale.Sum : format.ToSingle(x) / scale.Sum);
            if (hasWeight != 0)
            {
                float w = offset + format.ToSingle(weight);
                y = Round(y * (inputDtype ? Round(w) : w));
            }

            if (hasBias != 0)
            {
                y = Round(y + format.ToSingle(bias));
            }
        }

        return format.FromSingle(y);
    }

    /// <summary>Rounds a float32 to the format and widens it back.</summary>
    private static float Round(float value) => default(TFormat).ToSingle(default(TFormat).FromSingle(value));

}
