using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Support;

/// <summary>Checks results of the extended forward pass against <see cref="RmsNormPolicyReference"/>, and data helpers for it.</summary>
internal static class PolicyCheck
{
    public static readonly RmsNormPolicy[] Policies = [RmsNormPolicy.TensorRtLlm, RmsNormPolicy.WeightInFloat32, RmsNormPolicy.InputDtype];

    public static RmsNormOptions Options(string backend, RmsNormPolicy policy, float offset = 0, double epsilon = RmsNormOptions.DefaultEpsilon, int numGroups = 1) =>
        Backends.Options(backend, epsilon, numGroups) with { Policy = policy, WeightOffset = offset };

    /// <summary>Asserts that every element of <paramref name="actual"/> is the policy's result for <paramref name="normalized"/> (the input, or the fused sum).</summary>
    public static void AssertMatches<T>(T[] actual, T[] normalized, int[] shape, int[] normalizedShape, T[] weight, T[] bias, RmsNormOptions options, string context)
        where T : unmanaged
    {
        string? mismatch = RmsNormPolicyReference.Mismatch<T>(actual, normalized, shape, normalizedShape, weight, bias, options);
        Assert.True(mismatch is null, $"{context} {typeof(T).Name} {options.Policy} offset {options.WeightOffset} weight {weight.Length > 0} bias {bias.Length > 0} shape [{string.Join(",", shape)}]: {mismatch}");
    }

    /// <summary>Bitwise equality that names the first differing element (NaN payloads included).</summary>
    public static void AssertSameBits<T>(T[] expected, T[] actual, string context)
        where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan());
        var a = System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.AsSpan());
        if (!e.SequenceEqual(a))
        {
            int size = e.Length / expected.Length;
            int i = 0;
            while (e.Slice(i * size, size).SequenceEqual(a.Slice(i * size, size)))
            {
                i++;
            }

            Assert.Fail($"{context}: element {i} differs: expected {Elements.ToDouble(expected[i]):R}, got {Elements.ToDouble(actual[i]):R}");
        }
    }

    /// <summary>Rows of <paramref name="hidden"/> elements taken out of a strided buffer.</summary>
    public static T[] Gather<T>(T[] buffer, int rows, int hidden, int stride)
    {
        var rowsOnly = new T[rows * hidden];
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(buffer, r * stride, rowsOnly, r * hidden, hidden);
        }

        return rowsOnly;
    }

    /// <summary>Asserts that every element outside the rows still has the value of <paramref name="before"/>, bit for bit.</summary>
    public static void AssertGapsUntouched<T>(T[] before, T[] after, int rows, int hidden, int stride, string context)
        where T : unmanaged
    {
        var b = System.Runtime.InteropServices.MemoryMarshal.AsBytes(before.AsSpan());
        var a = System.Runtime.InteropServices.MemoryMarshal.AsBytes(after.AsSpan());
        int size = b.Length / before.Length;
        for (int i = 0; i < before.Length; i++)
        {
            bool inRow = i / stride < rows && i % stride < hidden;
            if (!inRow && !b.Slice(i * size, size).SequenceEqual(a.Slice(i * size, size)))
            {
                Assert.Fail($"{context}: element {i} between rows (stride {stride}, hidden {hidden}) was written: {Elements.ToDouble(after[i]):R}");
            }
        }
    }
}
