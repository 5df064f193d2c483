using IlgpuNorm.Planning;

namespace IlgpuNorm.Verification;

/// <summary>The row loop every float64 reference shares: Σx² in float64, then the denominator sqrt(mean + eps) per segment.</summary>
internal static class ReferenceRows
{
    /// <summary>The problem, after checking the input, weight and bias lengths (the same checks as <see cref="RmsNorm"/>).</summary>
    public static RmsNormProblem Validate<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, int numGroups, double epsilon)
        where T : unmanaged
    {
        _ = ElementTypes.Require<T>(nameof(input));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        if (input.Length != problem.TotalElements)
        {
            throw new ArgumentException($"Expected {problem.TotalElements} input elements; got {input.Length}.", nameof(input));
        }

        if ((!weight.IsEmpty && weight.Length != problem.NormalizedLength) || (!bias.IsEmpty && bias.Length != problem.NormalizedLength))
        {
            throw new ArgumentException($"Expected a weight and a bias of {problem.NormalizedLength} elements or none; got {weight.Length} and {bias.Length}.", nameof(weight));
        }

        return problem;
    }

    /// <summary>
    /// sqrt(Σx²/n + eps) per segment, eps rounded to float32 below float64 (as the policy). <paramref name="compensated"/>
    /// sums Neumaier-compensated, where the reference must be more accurate than the float64 path it checks.
    /// </summary>
    public static double[] Denominators<T>(ReadOnlySpan<T> input, RmsNormProblem problem, bool compensated)
        where T : unmanaged
    {
        int n = problem.SegmentLength;
        double eps = typeof(T) == typeof(double) ? problem.Epsilon : (float)problem.Epsilon;
        var denominators = new double[problem.Segments];
        for (long s = 0; s < problem.Segments; s++)
        {
            int offset = (int)(s * n);
            double sum = 0, compensation = 0;
            for (int i = 0; i < n; i++)
            {
                double v = Elements.ToDouble(input[offset + i]);
                double square = v * v;
                double t = sum + square;
                compensation += Math.Abs(sum) >= Math.Abs(square) ? (sum - t) + square : (square - t) + sum;
                sum = t;
            }

            sum = compensated && double.IsFinite(sum) ? sum + compensation : sum; // ±Inf/NaN: the compensation is meaningless
            denominators[s] = Math.Sqrt(sum / n + eps);
        }

        return denominators;
    }
}
