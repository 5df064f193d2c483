using IlgpuNorm.Planning;

namespace IlgpuNorm.Verification;

/// <summary>
/// The float64 reference of <see cref="RmsNormBackward"/> and its tolerance, for the tests and the CLI.
/// </summary>
/// <remarks>
/// <para>The gradients are computed in float64 from the same inputs (eps rounded to float32 for 16- and 32-bit inputs).
/// dx involves a cancellation (r·w·dy − r³·x·c), so an ulp budget on the result cannot work; the tolerance is a
/// forward-error bound in the math type's unit u (2^-24 for float32 math, 2^-53 for float64 math, 2^-24 for float64
/// when a float32 rstd was given), plus one rounding to the output dtype:</para>
/// <code>
/// |dx_i − ref|      ≤ (16 + 2·sqrt(n)) · u · (r·|w_i·dy_i| + r³·|x_i|·(1/n)·Σ|w·dy·x|)  + spacing_T
/// |dweight_j − ref| ≤ (16 + 2·sqrt(n) + 2·sqrt(S)) · u · Σ_segments |dy_j·x_j·r|         + spacing_T
/// </code>
/// <para>n is the segment length, S the number of segments summed into one weight element, and spacing_T the distance
/// between neighbours of the output dtype at the result's magnitude (one rounding). NaN must match NaN.</para>
/// </remarks>
public static class BackwardReference
{
    /// <summary>The float64 gradients of rms_norm with an error bound per element .</summary>
    /// <param name="Dx">dx, unrounded.</param>
    /// <param name="DxBound">The accepted |dx − Dx| per element.</param>
    /// <param name="Dweight">dweight, unrounded (empty without a weight).</param>
    /// <param name="DweightBound">The accepted |dweight − Dweight| per element.</param>
    public sealed record Expectation(double[] Dx, double[] DxBound, double[] Dweight, double[] DweightBound);

    /// <summary>Computes the reference gradients and bounds.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="dy">dy.</param>
    /// <param name="x">x.</param>
    /// <param name="shape">The shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="epsilon">eps.</param>
    /// <param name="numGroups">num_groups.</param>
    /// <param name="savedRstd">Whether the implementation was given a float32 rstd (loosens float64's unit to 2^-24).</param>
    /// <returns>The expectation.</returns>
    public static Expectation Compute<T>(
        ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight,
        double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1, bool savedRstd = false)
        where T : unmanaged
    {
        var type = ElementTypes.Require<T>(nameof(x));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        int n = problem.SegmentLength;
        double u = type == ElementType.Float64 && !savedRstd ? Math.ScaleB(1.0, -53) : Math.ScaleB(1.0, -24);
        double k = 16 + 2 * Math.Sqrt(n);
        var denominators = ReferenceRows.Denominators(x, problem, compensated: false);
        var dx = new double[problem.TotalElements];
        var dxBound = new double[problem.TotalElements];
        var dw = new double[weight.Length];
        var dwMagnitude = new double[weight.Length];
        for (long s = 0; s < problem.Segments; s++)
        {
            int offset = (int)(s * n);
            int wOffset = (int)(s % problem.NumGroups) * n;
            double dot = 0, dotMagnitude = 0;
            for (int i = 0; i < n; i++)
            {
                double wv = weight.IsEmpty ? 1 : Elements.ToDouble(weight[wOffset + i]);
                double term = wv * Elements.ToDouble(dy[offset + i]) * Elements.ToDouble(x[offset + i]);
                dot += term;
                dotMagnitude += Math.Abs(term);
            }

            double r = 1 / denominators[s];
            double c = dot / n;
            for (int i = 0; i < n; i++)
            {
                double xv = Elements.ToDouble(x[offset + i]);
                double g = Elements.ToDouble(dy[offset + i]);
                double wv = weight.IsEmpty ? 1 : Elements.ToDouble(weight[wOffset + i]);
                double value = r * wv * g - r * r * r * xv * c;
                double error = k * u * (r * Math.Abs(wv * g) + r * r * r * Math.Abs(xv) * dotMagnitude / n);
                dx[offset + i] = value;
                dxBound[offset + i] = error + Spacing(type, Math.Abs(value) + error);
                if (!weight.IsEmpty)
                {
                    dw[wOffset + i] += g * xv * r;
                    dwMagnitude[wOffset + i] += Math.Abs(g * xv * r);
                }
            }
        }

        var dwBound = new double[weight.Length];
        double kw = k + 2 * Math.Sqrt(problem.Rows);
        for (int j = 0; j < weight.Length; j++)
        {
            double error = kw * u * dwMagnitude[j];
            dwBound[j] = error + Spacing(type, Math.Abs(dw[j]) + error);
        }

        return new Expectation(dx, dxBound, dw, dwBound);
    }

    /// <summary>Whether a value is within a bound of the reference (NaN only matches NaN).</summary>
    /// <param name="actual">The computed value.</param>
    /// <param name="expected">The reference value.</param>
    /// <param name="bound">The bound.</param>
    /// <returns>Whether it passes.</returns>
    public static bool Accepts(double actual, double expected, double bound) =>
        double.IsNaN(expected) || double.IsNaN(bound) ? double.IsNaN(actual) : Math.Abs(actual - expected) <= bound;

    /// <summary>The distance between neighbouring values of a dtype at a magnitude (the smallest subnormal step below the normal range).</summary>
    /// <param name="type">The dtype.</param>
    /// <param name="magnitude">The magnitude.</param>
    /// <returns>The spacing.</returns>
    public static double Spacing(ElementType type, double magnitude)
    {
        var (mantissa, minExponent, _) = Tolerance.Format(type);
        int exponent = magnitude > 0 && double.IsFinite(magnitude) ? Math.Max(Math.ILogB(magnitude), minExponent) : minExponent;
        return Math.ScaleB(1.0, exponent - mantissa);
    }
}
