using IlgpuNorm.Planning;

namespace IlgpuNorm.Verification;

/// <summary>
/// What a policy does after the float64 denominator, for one element: the core rounded once (and moved a number of
/// representable values), then the weight and the bias, each step rounded where the policy rounds. <paramref name="Wide"/>
/// does every step in float64 and rounds to T only (<see cref="RmsNormReference"/>); otherwise the steps run in the
/// compute type (float32, float64 for float64), emulated as one float64 operation rounded once, which is exact.
/// </summary>
internal readonly record struct PolicySteps(RmsNormPolicy Policy, double WeightOffset, bool Wide)
{
    /// <summary>Element <paramref name="i"/> with the core moved <paramref name="step"/> representable values from its nearest rounding.</summary>
    public T Element<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, RmsNormProblem problem, double[] denominators, int i, long step)
        where T : unmanaged
    {
        int wi = (int)(i % problem.NormalizedLength);
        double x = Elements.ToDouble(input[i]);
        double d = denominators[i / problem.SegmentLength];
        double y = Policy switch
        {
            RmsNormPolicy.WeightInFloat32 => Step<T>(x / d, step, inT: false),
            RmsNormPolicy.InputDtype => Round<T>(x * Step<T>(1 / d, step, inT: true)),
            _ => Step<T>(x / d, step, inT: true),
        };
        if (!weight.IsEmpty)
        {
            double w = Elements.ToDouble(weight[wi]);
            w = Wide ? w : InCompute<T>(WeightOffset + w);
            y = Round<T>(y * (Policy == RmsNormPolicy.InputDtype ? ToT<T>(w) : w));
        }

        if (!bias.IsEmpty)
        {
            y = Round<T>(y + Elements.ToDouble(bias[wi]));
        }

        return Elements.FromDouble<T>(y);
    }

    /// <summary>A float64 result of one operation, rounded as the compute type of T rounds it (float32, or float64 for float64).</summary>
    public double InCompute<T>(double value) => Wide || typeof(T) == typeof(double) ? value : (float)value;

    /// <summary>One operation's result as the policy keeps it: in the compute type (WeightInFloat32), else rounded to T.</summary>
    private double Round<T>(double value)
        where T : unmanaged => Policy == RmsNormPolicy.WeightInFloat32 ? InCompute<T>(value) : ToT<T>(InCompute<T>(value));

    /// <summary>A compute-type value rounded to T and widened back.</summary>
    private static double ToT<T>(double value)
        where T : unmanaged => Elements.ToDouble(Elements.FromDouble<T>(value));

    /// <summary>value rounded to T (or to the compute type), then moved <paramref name="step"/> representable values of it.</summary>
    private double Step<T>(double value, long step, bool inT)
        where T : unmanaged =>
        inT ? Elements.ToDouble(Ulp.Step(Elements.FromDouble<T>(InCompute<T>(value)), step))
        : typeof(T) == typeof(double) ? Ulp.Step(value, step) : Ulp.Step((float)value, step);
}
