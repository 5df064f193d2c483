using System.Globalization;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// One random rms_norm call, held in float64 and converted to the dtype under test (values round, large ones overflow
/// to ±Inf in the narrow dtypes: that is part of what is fuzzed). <see cref="ToString"/> prints it as C# that rebuilds it.
/// </summary>
public sealed record FuzzCase(int[] Shape, int NormalizedRank, int NumGroups, double Epsilon, double[] X, double[] W)
{
    public int[] NormalizedShape => Shape[^NormalizedRank..];

    public T[] Input<T>()
        where T : unmanaged => [.. X.Select(Elements.FromDouble<T>)];

    public T[] Weight<T>()
        where T : unmanaged => [.. W.Select(Elements.FromDouble<T>)];

    public override string ToString() =>
        $"new FuzzCase(Shape: [{string.Join(", ", Shape)}], NormalizedRank: {NormalizedRank}, NumGroups: {NumGroups}, " +
        $"Epsilon: {Format(Epsilon)}, X: [{string.Join(", ", X.Select(Format))}], W: [{string.Join(", ", W.Select(Format))}])";

    private static string Format(double value) => value switch
    {
        double.NaN => "double.NaN",
        double.PositiveInfinity => "double.PositiveInfinity",
        double.NegativeInfinity => "double.NegativeInfinity",
        0 when double.IsNegative(value) => "-0.0",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
