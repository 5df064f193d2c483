namespace IlgpuNorm.Kernels;

/// <summary>
/// The per-dtype arithmetic of the rms_norm kernel: how a stored element widens to the
/// accumulator type, and how a result is rounded back under the numerics policy.
/// Implementations are empty structs so ILGPU inlines them into each kernel instance.
/// </summary>
/// <typeparam name="T">The storage type (float, double, or ushort bits for float16/bfloat16).</typeparam>
/// <typeparam name="TAcc">The accumulator type (float, or a compensated double sum for float64).</typeparam>
internal interface IRmsCodec<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
{
    /// <summary>acc + widen(x)².</summary>
    TAcc AddSquare(TAcc acc, T x);

    TAcc Add(TAcc a, TAcc b);

    /// <summary>sqrt(sumOfSquares / n + eps).</summary>
    TAcc Denominator(TAcc sumOfSquares, int n, double epsilon);

    /// <summary>(T)(widen(x) / denominator); when <paramref name="hasWeight"/> is 1, times the weight and rounded to T again.</summary>
    T Normalize(T x, TAcc denominator, T weight, int hasWeight);

    /// <summary>(T)(widen(x) + widen(residual)): the fused residual add, in the compute type, rounded once to T.</summary>
    T AddResidual(T x, T residual);

    /// <summary>The <see cref="IlgpuNorm.RmsNormPolicy.InputDtype"/> scale: (T)(1 / denominator), carried widened.</summary>
    TAcc Reciprocal(TAcc denominator);

    /// <summary>
    /// One output element under a policy (<typeparamref name="TSteps"/>): <paramref name="scale"/> is the
    /// denominator, or the reciprocal for <see cref="IlgpuNorm.RmsNormPolicy.InputDtype"/>; the weight enters as
    /// <c>offset + widen(w)</c>; the bias is added after the weight. See <see cref="IlgpuNorm.RmsNormPolicy"/>.
    /// </summary>
    T Apply<TSteps>(T x, TAcc scale, T weight, T bias, int hasWeight, int hasBias, float offset)
        where TSteps : struct, IRmsPolicySteps;

    /// <summary>
    /// The float32 value the quantized rms_norm encodes: widen(x) / denominator, times widen(w) when <paramref name="hasWeight"/>
    /// is 1, not rounded to the input dtype in between (as TensorRT-LLM's fused quantizing norms; float64 inputs: float64
    /// math, rounded once to float32). The host path uses it too.
    /// </summary>
    float Value(T x, TAcc denominator, T w, int hasWeight);
}
