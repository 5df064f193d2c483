namespace IlgpuNorm.Kernels;

/// <summary>
/// A rounding policy's steps as a type, so that a kernel instance contains only its policy's arithmetic: a division
/// by the denominator or a multiplication by the row's reciprocal, never both followed by a select. Empty structs:
/// ILGPU folds the properties to constants.
/// </summary>
internal interface IRmsPolicySteps
{
    /// <summary>True for <see cref="RmsNormPolicy.InputDtype"/>: x · (T)(1/d), the weight rounded to T first.</summary>
    bool MultipliesByReciprocal { get; }

    /// <summary>True for <see cref="RmsNormPolicy.WeightInFloat32"/>: float32 to the end, rounded once.</summary>
    bool RoundsOnce { get; }
}

/// <summary><see cref="RmsNormPolicy.TensorRtLlm"/>: (T)(x / d), then each step rounded to T.</summary>
internal readonly struct TensorRtLlmSteps : IRmsPolicySteps
{
    public bool MultipliesByReciprocal => false;

    public bool RoundsOnce => false;
}

/// <summary><see cref="RmsNormPolicy.WeightInFloat32"/>: (T)(x / d · w' + b) in float32.</summary>
internal readonly struct WeightInFloat32Steps : IRmsPolicySteps
{
    public bool MultipliesByReciprocal => false;

    public bool RoundsOnce => true;
}

/// <summary><see cref="RmsNormPolicy.InputDtype"/>: (T)(x · rstd), then each step rounded to T.</summary>
internal readonly struct InputDtypeSteps : IRmsPolicySteps
{
    public bool MultipliesByReciprocal => true;

    public bool RoundsOnce => false;
}
