namespace IlgpuNorm.Kernels;

/// <summary>
/// The per-dtype arithmetic of the quantized rms_norm: the forward codec's sum of squares, and the float32 value that is
/// quantized, <c>x / sqrt(mean(x²) + eps) · w</c>, without rounding to the input dtype in between (as TensorRT-LLM's
/// fused quantizing norms do). The forward codecs implement it; the host path uses them too.
/// </summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <typeparam name="TAcc">The accumulator type.</typeparam>
internal interface IQuantCodec<T, TAcc> : IRmsCodec<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
{
    /// <summary>
    /// The float32 value to quantize: widen(x) / denominator, times widen(w) when <paramref name="hasWeight"/> is 1
    /// (float64 inputs: float64 math, rounded once to float32).
    /// </summary>
    float Value(T x, TAcc denominator, T w, int hasWeight);
}
