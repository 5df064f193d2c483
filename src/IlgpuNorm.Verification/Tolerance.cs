namespace IlgpuNorm.Verification;

/// <summary>
/// The tolerance policy of the tests and the CLI's <c>verify</c>, in one place.
/// </summary>
/// <remarks>
/// <para>The policy rounds twice: <c>y = (T)(x / rms)</c>, then <c>(T)(y * w)</c>. Our float32 accumulation may put
/// the first rounding one neighbour away from the float64 reference's; the weight multiply then turns a 1-ulp
/// difference into up to |w| ulp. So the budget applies where the error is made, at the first rounding:</para>
/// <list type="bullet">
/// <item>without a weight, the output is within <see cref="UlpBudget"/> ulp of the reference;</item>
/// <item>with a weight, either the same holds, or the output is exactly <c>(T)(c * w)</c> for some <c>c</c> within
/// <see cref="UlpBudget"/> ulp of the reference's unweighted value (the weight multiply itself is exact to the policy).</item>
/// </list>
/// <para>Budgets: float32 4 ulp (a float32-accumulating NumPy implementation lands within 3 on the golden cases);
/// float16 and bfloat16 1 ulp (the float32 result rounded once more); float64 4 ulp (only the summation order differs
/// from the compensated float64 reference).</para>
/// </remarks>
public static class Tolerance
{
    /// <summary>The ulp budget of a dtype at the rounding to the input dtype.</summary>
    /// <param name="type">The element type.</param>
    /// <returns>4, 1, 1 or 4.</returns>
    public static long UlpBudget(ElementType type) => Format(type).Budget;

    /// <summary>The dtype table: mantissa bits, least normal exponent (for ulp and spacing) and ulp budget.</summary>
    internal static (int Mantissa, int MinExponent, long Budget) Format(ElementType type) => type switch
    {
        ElementType.Float16 => (10, -14, 1),
        ElementType.BFloat16 => (7, -126, 1),
        ElementType.Float32 => (23, -126, 4),
        _ => (52, -1022, 4),
    };

    /// <summary>
    /// The ulp budget of <see cref="RmsNormPolicyReference"/> at a policy's core, the value where float32 and float64
    /// arithmetic part: <see cref="UlpBudget"/> of the dtype where the core is rounded to it (TensorRtLlm, InputDtype),
    /// and the float32 budget (float64 for float64) where it stays in the compute type (WeightInFloat32).
    /// </summary>
    /// <param name="type">The element type.</param>
    /// <param name="policy">The policy.</param>
    /// <returns>The budget in ulp of the core's type.</returns>
    public static long PolicyCoreBudget(ElementType type, RmsNormPolicy policy) =>
        policy == RmsNormPolicy.WeightInFloat32 ? UlpBudget(type == ElementType.Float64 ? ElementType.Float64 : ElementType.Float32) : UlpBudget(type);

    /// <summary>Whether <paramref name="actual"/> is acceptable for one element.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="actual">The computed output.</param>
    /// <param name="expected">The reference output (with the weight).</param>
    /// <param name="expectedUnweighted">The reference output computed without the weight.</param>
    /// <param name="weight">The weight element, or null when there is no weight.</param>
    /// <returns>Whether the element passes.</returns>
    public static bool Accepts<T>(T actual, T expected, T expectedUnweighted, T? weight)
        where T : unmanaged
    {
        long budget = UlpBudget(ElementTypes.Require<T>(nameof(actual)));
        if (Ulp.Distance(actual, expected) <= budget)
        {
            return true;
        }

        if (weight is not { } w)
        {
            return false;
        }

        double wd = Elements.ToDouble(w);
        double actualValue = Elements.ToDouble(actual);
        for (long k = -budget; k <= budget; k++)
        {
            double product = Elements.ToDouble(Elements.FromDouble<T>(Elements.ToDouble(Ulp.Step(expectedUnweighted, k)) * wd));
            if (product.Equals(actualValue) || (product == 0 && actualValue == 0))
            {
                return true;
            }
        }

        return false;
    }
}
