namespace IlgpuNorm.Verification;

/// <summary>
/// The float64 reference of rms_norm, used by the tests and the CLI's <c>verify</c>: the normalization in
/// float64, then rounded under the numerics policy (to the element type, times the weight, rounded again).
/// </summary>
public static class RmsNormReference
{
    /// <summary>Computes the reference result, with the same validation as <see cref="RmsNorm"/>.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="input">The input.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="epsilon">eps.</param>
    /// <param name="numGroups">num_groups.</param>
    /// <returns>The expected output.</returns>
    public static T[] Compute<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1)
        where T : unmanaged
    {
        var problem = ReferenceRows.Validate(input, shape, normalizedShape, weight, default, numGroups, epsilon);
        var denominators = ReferenceRows.Denominators(input, problem, compensated: true);
        var steps = new PolicySteps(RmsNormPolicy.TensorRtLlm, 0, Wide: true);
        var output = new T[problem.TotalElements];
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = steps.Element(input, weight, default, problem, denominators, i, 0);
        }

        return output;
    }
}
