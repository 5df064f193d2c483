using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>Runs the quantized rms_norm on a backend into poisoned outputs and checks it against <see cref="QuantReference"/>.</summary>
internal static class QuantCheck
{
    /// <summary>A byte the encoders never write: -128 (0x80) for int8, 0xFF (the negative NaN) for FP8.</summary>
    public static byte PoisonCode(QuantizeFormat format) => format == QuantizeFormat.Int8 ? (byte)0x80 : (byte)0xFF;

    public static (byte[] Codes, float[] Scales) Run<T>(string backend, T[] x, int[] shape, int[] normalizedShape, T[] weight, QuantizeOptions quantize, int numGroups = 1, double epsilon = RmsNormOptions.DefaultEpsilon)
        where T : unmanaged
    {
        long segments = x.Length / normalizedShape.Aggregate(1, (a, b) => a * b) * numGroups;
        var codes = new byte[x.Length];
        Array.Fill(codes, PoisonCode(quantize.Format));
        var scales = new float[segments];
        Array.Fill(scales, float.NaN);
        var before = (T[])x.Clone();
        RmsNormQuantized.Compute<T>(x, shape, normalizedShape, weight, codes, scales, quantize, Backends.Options(backend, epsilon, numGroups));
        Assert.Equal(before, x);
        return (codes, scales);
    }

    public static (byte[] Codes, float[] Scales) AgainstReference<T>(string backend, T[] x, int[] shape, int[] normalizedShape, T[] weight, QuantizeOptions quantize, int numGroups = 1, double epsilon = RmsNormOptions.DefaultEpsilon)
        where T : unmanaged
    {
        var (codes, scales) = Run(backend, x, shape, normalizedShape, weight, quantize, numGroups, epsilon);
        var result = QuantReference.Check<T>(x, shape, normalizedShape, weight, quantize, epsilon, numGroups, codes, scales);
        Assert.True(result.Passed,
            $"{backend} {typeof(T).Name} shape [{string.Join(",", shape)}] groups {numGroups} weight {weight.Length > 0} {quantize}: " +
            $"{result.Failures} failures, {result.NearTies} near ties of {result.Elements} (max {QuantReference.MaxNearTies(result.Elements)}); first: {result.FirstFailure}");
        return (codes, scales);
    }
}
