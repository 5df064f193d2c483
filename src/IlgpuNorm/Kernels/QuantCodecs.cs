namespace IlgpuNorm.Kernels;

/// <summary>
/// The per-dtype arithmetic of the quantized rms_norm: the sum of squares (as <see cref="IRmsCodec{T, TAcc}"/>) and the
/// float32 value that is quantized, <c>x / sqrt(mean(x²) + eps) · w</c>, without rounding to the input dtype in between
/// (as TensorRT-LLM's fused quantizing norms do). Empty structs, so ILGPU inlines them; the host path uses them too.
/// </summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <typeparam name="TAcc">The accumulator type.</typeparam>
internal interface IQuantCodec<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
{
    /// <summary>acc + widen(x)².</summary>
    TAcc AddSquare(TAcc acc, T x);

    /// <summary>a + b.</summary>
    TAcc Add(TAcc a, TAcc b);

    /// <summary>sqrt(sumOfSquares / n + eps).</summary>
    TAcc Denominator(TAcc sumOfSquares, int n, double epsilon);

    /// <summary>The float32 value to quantize: widen(x) / denominator, times widen(w) when <paramref name="hasWeight"/> is 1.</summary>
    float Value(T x, TAcc denominator, T w, int hasWeight);
}

/// <summary>float32 inputs: float32 math, compensated sum.</summary>
internal readonly struct Float32QuantCodec : IQuantCodec<float, CompensatedSingle>
{
    public CompensatedSingle AddSquare(CompensatedSingle acc, float x) => acc.Add(x * x);

    public CompensatedSingle Add(CompensatedSingle a, CompensatedSingle b) => a.Add(b.Sum).Add(b.Error);

    public CompensatedSingle Denominator(CompensatedSingle sumOfSquares, int n, double epsilon) =>
        new(MathF.Sqrt(sumOfSquares.Value / n + (float)epsilon), 0);

    public float Value(float x, CompensatedSingle denominator, float w, int hasWeight)
    {
        float y = x / denominator.Sum;
        return hasWeight != 0 ? y * w : y;
    }
}

/// <summary>float16/bfloat16 bits: widened exactly to float32, float32 math; the value is not rounded to 16 bits.</summary>
internal readonly struct SixteenBitQuantCodec<TFormat> : IQuantCodec<ushort, CompensatedSingle>
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

    public float Value(ushort x, CompensatedSingle denominator, ushort w, int hasWeight)
    {
        float y = default(TFormat).ToSingle(x) / denominator.Sum;
        return hasWeight != 0 ? y * default(TFormat).ToSingle(w) : y;
    }
}

/// <summary>float64 inputs: float64 math, rounded once to float32 before quantization.</summary>
internal readonly struct Float64QuantCodec : IQuantCodec<double, CompensatedSum>
{
    public CompensatedSum AddSquare(CompensatedSum acc, double x) => acc.Add(x * x);

    public CompensatedSum Add(CompensatedSum a, CompensatedSum b) => a.Add(b.Sum).Add(b.Error);

    public CompensatedSum Denominator(CompensatedSum sumOfSquares, int n, double epsilon) =>
        new(Math.Sqrt(sumOfSquares.Value / n + epsilon), 0);

    public float Value(double x, CompensatedSum denominator, double w, int hasWeight)
    {
        double y = x / denominator.Sum;
        return (float)(hasWeight != 0 ? y * w : y);
    }
}
