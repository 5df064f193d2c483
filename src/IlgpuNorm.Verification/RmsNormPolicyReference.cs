using IlgpuNorm.Planning;

namespace IlgpuNorm.Verification;

/// <summary>
/// The exact reference of every <see cref="RmsNormPolicy"/>, with the weight offset and the bias, and of the fused
/// residual add: the sum of squares, square root and division in float64, then each of the policy's later steps
/// emulated exactly in its compute type (float32 operations as float64 operations rounded once to float32, which
/// is exact for one +, × or ÷ of float32 operands) and rounded to <c>T</c> where the policy rounds.
/// </summary>
/// <remarks>
/// <para>The float64 normalization differs from a float32 one by a few units; the policy's later steps may magnify
/// that (a weight, a cancelling bias). So the budget of <see cref="Tolerance.PolicyCoreBudget"/> applies where the
/// float32 value is made, the "core" (<c>(T)(x / d)</c> for TensorRtLlm, <c>x / d</c> in float32 for WeightInFloat32,
/// <c>(T)(1 / d)</c> for InputDtype), and everything after it must match exactly: an output passes when it equals the
/// policy's steps applied to some core value within the budget of the float64 core.</para>
/// </remarks>
public static class RmsNormPolicyReference
{
    /// <summary>The fused add's new residual: <c>(T)(x + residual)</c> with the sum in float32 (float64 for float64).</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="input">x.</param>
    /// <param name="residual">The residual.</param>
    /// <returns>The rounded sums.</returns>
    public static T[] AddResidual<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> residual)
        where T : unmanaged
    {
        _ = ElementTypes.Require<T>(nameof(input));
        if (input.Length != residual.Length)
        {
            throw new ArgumentException($"Expected a residual of {input.Length} elements; got {residual.Length}.", nameof(residual));
        }

        var sum = new T[input.Length];
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] = Elements.FromDouble<T>(default(PolicySteps).InCompute<T>(Elements.ToDouble(input[i]) + Elements.ToDouble(residual[i])));
        }

        return sum;
    }

    /// <summary>The expected output under the options' policy, offset and eps (the float64 core rounded once, then the policy's steps).</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="input">The input (for the fused add: the new residual), C order.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="bias">The bias, or empty.</param>
    /// <param name="options">eps, num_groups, policy and weight offset (the device is ignored).</param>
    /// <returns>The expected output.</returns>
    public static T[] Compute<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, RmsNormOptions options)
        where T : unmanaged
    {
        var (problem, denominators, steps) = Prepare(input, shape, normalizedShape, weight, bias, options);
        var output = new T[input.Length];
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = steps.Element(input, weight, bias, problem, denominators, i, 0);
        }

        return output;
    }

    /// <summary>Checks every element of <paramref name="actual"/>; returns null when all pass, else a message about the first that fails.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="actual">The computed output.</param>
    /// <param name="input">The input (for the fused add: the new residual), C order.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="bias">The bias, or empty.</param>
    /// <param name="options">eps, num_groups, policy and weight offset.</param>
    /// <returns>null, or what failed.</returns>
    public static string? Mismatch<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, RmsNormOptions options)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        var (problem, denominators, steps) = Prepare(input, shape, normalizedShape, weight, bias, options);
        if (actual.Length != input.Length)
        {
            return $"expected {input.Length} elements, got {actual.Length}";
        }

        long budget = Tolerance.PolicyCoreBudget(ElementTypes.Of<T>()!.Value, options.Policy);
        for (int i = 0; i < actual.Length; i++)
        {
            double got = Elements.ToDouble(actual[i]);
            bool ok = false;
            for (long k = -budget; k <= budget && !ok; k++)
            {
                double want = Elements.ToDouble(steps.Element(input, weight, bias, problem, denominators, i, k));
                ok = want.Equals(got) || (want == 0 && got == 0);
            }

            if (!ok)
            {
                var expected = steps.Element(input, weight, bias, problem, denominators, i, 0);
                long distance = Ulp.Distance(actual[i], expected);
                return $"element {i}: got {got:R}, expected {Elements.ToDouble(expected):R} ({(distance == long.MaxValue ? "inf" : distance)} ulp), " +
                    $"and no core within {budget} ulp gives it under {options.Policy}";
            }
        }

        return null;
    }

    private static (RmsNormProblem Problem, double[] Denominators, PolicySteps Steps) Prepare<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, RmsNormOptions options)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = ReferenceRows.Validate(input, shape, normalizedShape, weight, bias, options.NumGroups, options.Epsilon);
        return (problem, ReferenceRows.Denominators(input, problem, compensated: true), new PolicySteps(options.Policy, options.WeightOffset, Wide: false));
    }
}
