namespace IlgpuNorm;

/// <summary>
/// Where rms_norm rounds to the input dtype <c>T</c> after the float32 sum of squares, so a result can match a framework
/// bit for bit. <c>d = sqrt(mean(x²) + eps)</c> is computed in float32 (float64 for float64 inputs) under every policy;
/// <c>w' = offset + (float)w</c> is the weight with <see cref="RmsNormOptions.WeightOffset"/> added in float32.
/// </summary>
/// <remarks>
/// <para>float64 inputs compute in float64 under every policy, where they coincide up to float64 rounding
/// (<see cref="InputDtype"/> multiplies by <c>1/d</c> instead of dividing by <c>d</c>). For float32 inputs
/// <see cref="TensorRtLlm"/> and <see cref="WeightInFloat32"/> are the same operations and give the same bits.
/// Each "(T)" below is one round-to-nearest-even from float32 (float16/bfloat16) and nothing for float32.</para>
/// </remarks>
public enum RmsNormPolicy
{
    /// <summary>
    /// The default and the original behaviour (<c>tensorrt_llm.functional.rms_norm</c>): normalize in float32, round to
    /// <c>T</c>, multiply by the weight and round again, add the bias and round again:
    /// <c>y = (T)(x / d); y = (T)(y * w'); y = (T)(y + b)</c> (each product and sum in float32).
    /// </summary>
    TensorRtLlm = 0,

    /// <summary>
    /// Multiply by the weight and add the bias in float32, round once (PyTorch <c>nn.RMSNorm</c>, FlashInfer, TensorRT-LLM's
    /// fused kernels, Hugging Face Gemma): <c>y = (T)(x / d * w' + b)</c>, the product and the sum each rounded to float32
    /// (no fused multiply-add).
    /// </summary>
    WeightInFloat32 = 1,

    /// <summary>
    /// Everything after the sum of squares in <c>T</c> (Liger-Kernel's casting mode "none"):
    /// <c>r = (T)(1 / d); y = (T)(x * r); y = (T)(y * (T)w'); y = (T)(y + b)</c>: a multiply by the rounded reciprocal,
    /// not a division, and the offset weight rounded to <c>T</c> before use.
    /// </summary>
    InputDtype = 2,
}
