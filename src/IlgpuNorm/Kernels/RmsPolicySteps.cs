namespace IlgpuNorm.Kernels;

/// <summary>
/// A rounding policy's steps as a type, so that a kernel instance contains only its policy's arithmetic: a division
/// by the denominator or a multiplication by the row's reciprocal, never both followed by a select. Empty structs:
/// ILGPU folds the property to a constant.
/// </summary>
internal interface IRmsPolicySteps
{
    RmsNormPolicy Policy { get; }
}

/// <summary><see cref="RmsNormPolicy.TensorRtLlm"/>: (T)(x / d), then each step rounded to T.</summary>
internal readonly struct TensorRtLlmSteps : IRmsPolicySteps
{
    public RmsNormPolicy Policy => RmsNormPolicy.TensorRtLlm;
}

/// <summary><see cref="RmsNormPolicy.WeightInFloat32"/>: (T)(x / d · w' + b) in float32, rounded once.</summary>
internal readonly struct WeightInFloat32Steps : IRmsPolicySteps
{
    public RmsNormPolicy Policy => RmsNormPolicy.WeightInFloat32;
}

/// <summary><see cref="RmsNormPolicy.InputDtype"/>: (T)(x · (T)(1/d)), then each step rounded to T, the weight rounded to T first.</summary>
internal readonly struct InputDtypeSteps : IRmsPolicySteps
{
    public RmsNormPolicy Policy => RmsNormPolicy.InputDtype;
}
