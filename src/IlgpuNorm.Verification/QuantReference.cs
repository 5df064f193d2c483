using IlgpuNorm.Planning;

namespace IlgpuNorm.Verification;

/// <summary>
/// The float64 reference quantizer of <see cref="RmsNormQuantized"/> and its tolerance, for the tests and the CLI.
/// </summary>
/// <remarks>
/// <para>The reference computes v = x / sqrt(mean(x²) + eps) · w in float64 (eps rounded to float32 for 16- and 32-bit
/// inputs, as the policy), clamps it, and rounds the float64 quotient v / scale correctly (nearest even, saturated).</para>
/// <para>Tolerance (one table):</para>
/// <list type="bullet">
/// <item>dynamic scales: within <see cref="ScaleRelativeTolerance"/> (2^-20, 16 float32 ulp) of max(amax_ref / qmax, min);
/// static scales: exactly the static scale;</item>
/// <item>codes: the dequantized code equals the correctly rounded quantization of v_ref / scale (with the scale the
/// implementation returned); or it is one step away and v_ref / scale lies within <see cref="TieRelativeTolerance"/>
/// (2^-19, relative) of the rounding boundary between the two, where float32's few-ulp error in v can fall on either
/// side. Such near ties are counted and may be at most <see cref="MaxNearTies"/> (1 in 256, plus 4).</item>
/// </list>
/// </remarks>
public static class QuantReference
{
    /// <summary>The outcome of <see cref="QuantReference.Check{T}"/>.</summary>
    /// <param name="Elements">Elements checked.</param>
    /// <param name="NearTies">Codes one step from the reference's at a rounding boundary (allowed, counted).</param>
    /// <param name="Failures">Codes or scales outside the tolerance.</param>
    /// <param name="FirstFailure">A description of the first failure, or null.</param>
    public readonly record struct CheckResult(long Elements, long NearTies, long Failures, string? FirstFailure)
    {
        /// <summary>Whether there are no failures and the near-tie count is within <see cref="MaxNearTies"/>.</summary>
        public bool Passed => Failures == 0 && NearTies <= MaxNearTies(Elements);
    }

    /// <summary>How far (relative) a dynamic scale may be from the float64 reference's.</summary>
    public const double ScaleRelativeTolerance = 1.0 / (1 << 20);

    /// <summary>How close (relative) to a rounding boundary a quotient must be for a one-step difference to pass.</summary>
    public const double TieRelativeTolerance = 1.0 / (1 << 19);

    /// <summary>The largest number of near ties accepted among <paramref name="elements"/> elements.</summary>
    /// <param name="elements">Elements checked.</param>
    /// <returns>elements / 256 + 4.</returns>
    public static long MaxNearTies(long elements) => elements / 256 + 4;

    /// <summary>The correctly rounded code value (as a double) of a float64 quotient: nearest even, saturated; NaN gives 0 (int8) or NaN (FP8).</summary>
    /// <param name="scaled">v / scale in float64.</param>
    /// <param name="format">The format.</param>
    /// <returns>The code's value.</returns>
    public static double Quantize(double scaled, QuantizeFormat format)
    {
        if (double.IsNaN(scaled))
        {
            return format == QuantizeFormat.Int8 ? 0 : double.NaN;
        }

        if (format == QuantizeFormat.Int8)
        {
            return Math.Round(Math.Clamp(scaled, -127.0, 127.0), MidpointRounding.ToEven);
        }

        double a = Math.Abs(scaled);
        if (a >= Fp8E4M3.MaxValue)
        {
            return Math.CopySign(Fp8E4M3.MaxValue, scaled);
        }

        int exponent = a == 0 ? -6 : Math.Max(Math.ILogB(a), -6);
        double spacing = Math.ScaleB(1.0, exponent - 3);
        double rounded = Math.Round(a / spacing, MidpointRounding.ToEven) * spacing;
        return Math.CopySign(Math.Min(rounded, Fp8E4M3.MaxValue), scaled);
    }

    /// <summary>The value a code stands for (before the scale).</summary>
    /// <param name="code">The byte.</param>
    /// <param name="format">The format.</param>
    /// <returns>The value.</returns>
    public static double Decode(byte code, QuantizeFormat format) =>
        format == QuantizeFormat.Int8 ? (sbyte)code : Fp8E4M3.Decode(code);

    /// <summary>The float64 values v (clamped) that are quantized, one per element.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="input">The input.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="epsilon">eps.</param>
    /// <param name="numGroups">num_groups.</param>
    /// <param name="clamp">The clamp, or null.</param>
    /// <returns>The values.</returns>
    public static double[] Values<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight, double epsilon, int numGroups, float? clamp)
        where T : unmanaged
    {
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        var denominators = ReferenceRows.Denominators(input, problem, compensated: false);
        var values = new double[problem.TotalElements];
        for (int i = 0; i < values.Length; i++)
        {
            double v = Elements.ToDouble(input[i]) / denominators[i / problem.SegmentLength];
            if (!weight.IsEmpty)
            {
                v *= Elements.ToDouble(weight[(int)(i % problem.NormalizedLength)]);
            }

            if (clamp is { } c && !double.IsNaN(v))
            {
                v = Math.Clamp(v, -c, c);
            }

            values[i] = v;
        }

        return values;
    }

    /// <summary>Checks codes and scales against the reference under the tolerance above.</summary>
    /// <typeparam name="T">A supported element type.</typeparam>
    /// <param name="input">The input.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The normalized shape.</param>
    /// <param name="weight">The weight, or empty.</param>
    /// <param name="quantize">The quantization options used.</param>
    /// <param name="epsilon">eps.</param>
    /// <param name="numGroups">num_groups.</param>
    /// <param name="codes">The codes produced.</param>
    /// <param name="scales">The scales produced (one per segment; may be empty with a static scale).</param>
    /// <returns>The counts.</returns>
    public static CheckResult Check<T>(
        ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, ReadOnlySpan<T> weight,
        QuantizeOptions quantize, double epsilon, int numGroups, ReadOnlySpan<byte> codes, ReadOnlySpan<float> scales)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(quantize);
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        var values = Values(input, shape, normalizedShape, weight, epsilon, numGroups, quantize.Clamp);
        int n = problem.SegmentLength;
        long nearTies = 0, failures = 0;
        string? first = null;
        void Fail(string message)
        {
            failures++;
            first ??= message;
        }

        for (long s = 0; s < problem.Segments; s++)
        {
            int offset = (int)(s * n);
            double amax = 0;
            foreach (double v in values.AsSpan(offset, n))
            {
                amax = Math.Abs(v) > amax ? Math.Abs(v) : amax;
            }

            // A static scale must come back unchanged (if it comes back); a dynamic one within the relative tolerance.
            double expectedScale = quantize.StaticScale ?? Math.Max(amax / quantize.QMax, quantize.MinScale);
            double scale = quantize.StaticScale ?? scales[(int)s];
            if (quantize.StaticScale is null ? !(Math.Abs(scale - expectedScale) <= ScaleRelativeTolerance * expectedScale) : !scales.IsEmpty && scales[(int)s] != scale)
            {
                Fail(quantize.StaticScale is { } fixedScale
                    ? $"segment {s}: scale {scales[(int)s]:R}, expected the static {fixedScale:R}"
                    : $"segment {s}: scale {scale:R}, expected {expectedScale:R}");
            }

            for (int i = 0; i < n; i++)
            {
                double u = values[offset + i] / scale;
                double expected = Quantize(u, quantize.Format);
                double actual = Decode(codes[offset + i], quantize.Format);
                if (actual.Equals(expected) || actual == expected)
                {
                    continue;
                }

                double boundary = (actual + expected) / 2;
                bool adjacent = !double.IsNaN(actual) && !double.IsNaN(expected) &&
                    Quantize(boundary + Math.Abs(boundary) * 1e-12 + 1e-300, quantize.Format) is double up && Quantize(boundary - Math.Abs(boundary) * 1e-12 - 1e-300, quantize.Format) is double down &&
                    Math.Min(up, down) == Math.Min(actual, expected) && Math.Max(up, down) == Math.Max(actual, expected);
                if (adjacent && Math.Abs(u - boundary) <= TieRelativeTolerance * Math.Abs(u))
                {
                    nearTies++;
                }
                else
                {
                    Fail($"element {offset + i}: code {codes[offset + i]} = {actual:R}, expected {expected:R} (v/scale = {u:R}, scale {scale:R})");
                }
            }
        }

        return new CheckResult(problem.TotalElements, nearTies, failures, first);
    }
}
