using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Support;

/// <summary>Runs rms_norm on a backend into a poisoned destination and compares with the reference under <see cref="Tolerance"/>.</summary>
internal static class Check
{
    public static void AgainstReference<T>(string backend, T[] x, int[] shape, int[] normalizedShape, T[] weight, double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1)
        where T : unmanaged
    {
        var actual = TestData.Poisoned<T>(x.Length);
        var before = (T[])x.Clone();
        RmsNorm.Compute<T>(x, shape, normalizedShape, weight, actual, Backends.Options(backend, epsilon, numGroups));
        Assert.Equal(before, x);
        AssertClose(x, shape, normalizedShape, weight, epsilon, numGroups, actual,
            $"{backend} {typeof(T).Name} shape [{string.Join(",", shape)}] norm [{string.Join(",", normalizedShape)}] groups {numGroups} weight {weight.Length > 0} eps {epsilon}");
    }

    public static void AssertClose<T>(T[] x, int[] shape, int[] normalizedShape, T[] weight, double epsilon, int numGroups, T[] actual, string context)
        where T : unmanaged
    {
        var expected = RmsNormReference.Compute<T>(x, shape, normalizedShape, weight, epsilon, numGroups);
        var unweighted = weight.Length == 0 ? expected : RmsNormReference.Compute<T>(x, shape, normalizedShape, default, epsilon, numGroups);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            T? w = weight.Length == 0 ? null : weight[i % weight.Length];
            if (!Tolerance.Accepts(actual[i], expected[i], unweighted[i], w))
            {
                long distance = Ulp.Distance(actual[i], expected[i]);
                Assert.Fail($"{context}: element {i}: got {Elements.ToDouble(actual[i]):R}, expected {Elements.ToDouble(expected[i]):R} " +
                    $"({(distance == long.MaxValue ? "inf" : distance)} ulp; budget {Tolerance.UlpBudget(ElementTypes.Of<T>()!.Value)} at the rounding before the weight)");
            }
        }
    }

    /// <summary>For results without a weight: a plain ulp comparison.</summary>
    public static void AssertClose<T>(T[] expected, T[] actual, string context)
        where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        long budget = Tolerance.UlpBudget(ElementTypes.Of<T>()!.Value);
        for (int i = 0; i < expected.Length; i++)
        {
            long distance = Ulp.Distance(actual[i], expected[i]);
            Assert.True(distance <= budget, $"{context}: element {i}: got {Elements.ToDouble(actual[i]):R}, expected {Elements.ToDouble(expected[i]):R} ({distance} ulp > {budget})");
        }
    }
}
