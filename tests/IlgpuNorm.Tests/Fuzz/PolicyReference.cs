using IlgpuNorm.Planning;
using IlgpuNorm.Verification;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// <see cref="RmsNormReference"/> plus the one rule of the numerics policy it does not model: for float32, float16 and
/// bfloat16 the sum of squares is a float32, so a slice whose Σx² overflows float32 (|x| ≳ 1.8e19) has an infinite sum:
/// its finite elements become ±0 and its infinite ones NaN, exactly as for a ±Inf input (README, numerics policy).
/// The reference sums in float64 and would expect finite values there. Slices within 1e-6 of the float32 limit are
/// left out of the comparison (which side of the limit the compensated float32 sum lands on is not specified).
/// <para>The other end: squares below float32's range (|x| ≲ 1e-19) underflow. With eps = 0 a slice whose squares all
/// round to 0 in float32 divides by 0 (±Inf; NaN for its zeros); one whose Σx² + eps is below 2^-100 but not all zero
/// is summed in float32 subnormals, with fewer significant bits than any budget: it is left out of the comparison.
/// With eps ≥ 2^-100 (1e-6, 1e-30, …) tiny slices are compared normally: eps dominates the lost bits.</para>
/// </summary>
internal static class PolicyReference
{
    private const double Margin = 1e-6;

    /// <returns>The expected output, the expected unweighted output, and which elements are compared.</returns>
    public static (T[] Expected, T[] Unweighted, bool[] Compared) Compute<T>(FuzzCase c, T[] x, T[] w)
        where T : unmanaged
    {
        var expected = RmsNormReference.Compute<T>(x, c.Shape, c.NormalizedShape, w, c.Epsilon, c.NumGroups);
        var unweighted = w.Length == 0 ? expected : RmsNormReference.Compute<T>(x, c.Shape, c.NormalizedShape, default, c.Epsilon, c.NumGroups);
        var compared = new bool[x.Length];
        Array.Fill(compared, true);
        if (typeof(T) == typeof(double) || x.Length == 0)
        {
            return (expected, unweighted, compared);
        }

        var problem = RmsNormProblem.Create(c.Shape, c.NormalizedShape, c.NumGroups, c.Epsilon);
        double eps32 = (float)c.Epsilon;
        int n = problem.SegmentLength;
        for (long s = 0; s < problem.Segments; s++)
        {
            int offset = (int)(s * n);
            double sum = 0;
            bool special = false, allUnderflow = true;
            for (int i = 0; i < n; i++)
            {
                double v = Elements.ToDouble(x[offset + i]);
                special |= !double.IsFinite(v);
                sum += v * v;
                allUnderflow &= (float)(v * v) == 0;
            }

            double divisor;
            bool ambiguous;
            if (special)
            {
                continue; // the reference already covers it
            }
            else if (sum >= float.MaxValue * (1 - Margin))
            {
                divisor = double.PositiveInfinity;
                ambiguous = sum <= float.MaxValue * (1 + Margin);
            }
            else if (sum + eps32 < Math.ScaleB(1, -100))
            {
                divisor = 0;
                ambiguous = !(allUnderflow && eps32 == 0);
            }
            else
            {
                continue;
            }

            int wOffset = (int)(s % problem.NumGroups) * n;
            for (int i = 0; i < n; i++)
            {
                compared[offset + i] = !ambiguous;
                T y = Elements.FromDouble<T>(Elements.ToDouble(x[offset + i]) / divisor);
                unweighted[offset + i] = y;
                expected[offset + i] = w.Length == 0 ? y : Elements.FromDouble<T>(Elements.ToDouble(y) * Elements.ToDouble(w[wOffset + i]));
            }
        }

        return (expected, unweighted, compared);
    }
}
