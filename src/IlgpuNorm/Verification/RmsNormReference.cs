using IlgpuNorm.Planning;

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
        _ = ElementTypes.Require<T>(nameof(input));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        if (input.Length != problem.TotalElements)
        {
            throw new ArgumentException($"Expected {problem.TotalElements} input elements; got {input.Length}.", nameof(input));
        }

        if (!weight.IsEmpty && weight.Length != problem.NormalizedLength)
        {
            throw new ArgumentException($"Expected {problem.NormalizedLength} weight elements; got {weight.Length}.", nameof(weight));
        }

        var output = new T[problem.TotalElements];
        int n = problem.SegmentLength;
        double eps = typeof(T) == typeof(double) ? epsilon : (float)epsilon;
        for (long s = 0; s < problem.Segments; s++)
        {
            int offset = (int)(s * n);
            // Neumaier-compensated: the reference must be more accurate than the float64 path it checks.
            double sum = 0, compensation = 0;
            for (int i = 0; i < n; i++)
            {
                double v = Elements.ToDouble(input[offset + i]);
                double square = v * v;
                double t = sum + square;
                compensation += Math.Abs(sum) >= Math.Abs(square) ? (sum - t) + square : (square - t) + sum;
                sum = t;
            }

            sum = double.IsFinite(sum) ? sum + compensation : sum; // ±Inf/NaN: the compensation is meaningless

            double denominator = Math.Sqrt(sum / n + eps);
            int wOffset = (int)(s % problem.NumGroups) * n;
            for (int i = 0; i < n; i++)
            {
                T y = Elements.FromDouble<T>(Elements.ToDouble(input[offset + i]) / denominator);
                if (!weight.IsEmpty)
                {
                    y = Elements.FromDouble<T>(Elements.ToDouble(y) * Elements.ToDouble(weight[wOffset + i]));
                }

                output[offset + i] = y;
            }
        }

        return output;
    }
}
