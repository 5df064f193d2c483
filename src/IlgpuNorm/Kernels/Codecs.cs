namespace IlgpuNorm.Kernels;

/// <summary>
/// float64: all math in float64. The sum of squares is compensated (Neumaier), so a row's float64 result
/// is as accurate as the division and square root allow, whatever the row length.
/// </summary>
internal readonly struct Float64Codec : IRmsCodec<double, CompensatedSum>
{
    public CompensatedSum AddSquare(CompensatedSum acc, double x) => acc.Add(x * x);

    public CompensatedSum Add(CompensatedSum a, CompensatedSum b) => a.Add(b.Sum).Add(b.Error);

    public double Normalize(double x, CompensatedSum denominator, double weight, int hasWeight) =>
        hasWeight != 0 ? x / denominator.Sum * weight : x / denominator.Sum;

    public double AddResidual(double x, double residual) => x + residual;

    public CompensatedSum Reciprocal(CompensatedSum denominator) => new(1.0 / denominator.Sum, 0);

    public double Apply<TSteps>(double x, CompensatedSum scale, double weight, double bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps
    {
        // float64 is both the storage and the compute type: the policies differ only in x / d against x * (1 / d).
        double y = default(TSteps).Policy == RmsNormPolicy.InputDtype ? x * scale.Sum : x / scale.Sum;
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

    public float Value(double x, CompensatedSum denominator, double w, int hasWeight)
    {
        double y = x / denominator.Sum;
        return (float)(hasWeight != 0 ? y * w : y);
    }
}

/// <summary>How a storage type widens to float32 and rounds back (instance methods: ILGPU inlines them).</summary>
/// <typeparam name="TS">The storage type.</typeparam>
internal interface IStorageFormat<TS>
    where TS : unmanaged
{
    float ToSingle(TS bits);

    TS FromSingle(float value);
}

/// <summary>float32 itself: both conversions are the identity, so <see cref="SingleCodec{TS, TFormat}"/> does plain float32 math.</summary>
internal readonly struct Float32Format : IStorageFormat<float>
{
    public float ToSingle(float bits) => bits;

    public float FromSingle(float value) => value;
}

/// <summary>IEEE float16 bits.</summary>
internal readonly struct Float16Format : IStorageFormat<ushort>
{
    public float ToSingle(ushort bits) => HalfBits.HalfToSingle(bits);

    public ushort FromSingle(float value) => HalfBits.SingleToHalf(value);
}

/// <summary>bfloat16 bits.</summary>
internal readonly struct BFloat16Format : IStorageFormat<ushort>
{
    public float ToSingle(ushort bits) => BFloat16.BitsToSingle(bits);

    public ushort FromSingle(float value) => BFloat16.RoundToBits(value);
}

/// <summary>
/// float32 math over a storage format: float32 itself (each rounding is the identity), or float16 / bfloat16 bits,
/// rounded to the format, then times the weight rounded again. The product of two 16-bit values is exact in float32
/// (short of float32 underflow for bfloat16), so one rounding gives the correctly rounded product in the format.
/// </summary>
/// <typeparam name="TS">The storage type.</typeparam>
/// <typeparam name="TFormat">Its conversions to and from float32.</typeparam>
internal readonly struct SingleCodec<TS, TFormat> : IRmsCodec<TS, CompensatedSingle>
    where TS : unmanaged
    where TFormat : struct, IStorageFormat<TS>
{
    public CompensatedSingle AddSquare(CompensatedSingle acc, TS x)
    {
        float v = default(TFormat).ToSingle(x);
        return acc.Add(v * v);
    }

    public CompensatedSingle Add(CompensatedSingle a, CompensatedSingle b) => a.Add(b.Sum).Add(b.Error);

    public CompensatedSingle Denominator(CompensatedSingle sumOfSquares, int n, double epsilon) =>
        new(MathF.Sqrt(sumOfSquares.Value / n + (float)epsilon), 0);

    public TS Normalize(TS x, CompensatedSingle denominator, TS weight, int hasWeight)
    {
        TS y = default(TFormat).FromSingle(default(TFormat).ToSingle(x) / denominator.Sum);
        return hasWeight != 0 ? default(TFormat).FromSingle(default(TFormat).ToSingle(y) * default(TFormat).ToSingle(weight)) : y;
    }

    public TS AddResidual(TS x, TS residual) =>
        default(TFormat).FromSingle(default(TFormat).ToSingle(x) + default(TFormat).ToSingle(residual));

    public CompensatedSingle Reciprocal(CompensatedSingle denominator) => new(Round(1f / denominator.Sum), 0);

    public TS Apply<TSteps>(TS x, CompensatedSingle scale, TS weight, TS bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps
    {
        TFormat format = default;
        TSteps steps = default;
        float y;
        if (steps.Policy == RmsNormPolicy.WeightInFloat32)
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
            bool inputDtype = steps.Policy == RmsNormPolicy.InputDtype;
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

    /// <summary>Widened exactly, float32 math; the value is not rounded to the storage type.</summary>
    public float Value(TS x, CompensatedSingle denominator, TS w, int hasWeight)
    {
        float y = default(TFormat).ToSingle(x) / denominator.Sum;
        return hasWeight != 0 ? y * default(TFormat).ToSingle(w) : y;
    }
}
