using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Backward;

/// <summary>Runs the backward pass on a backend into poisoned outputs and checks it against <see cref="BackwardReference"/>.</summary>
internal static class BackwardCheck
{
    public static (T[] Dx, T[] Dw) Run<T>(string backend, T[] dy, T[] x, int[] shape, int[] normalizedShape, T[] weight, float[]? rstd = null, int numGroups = 1, double epsilon = RmsNormOptions.DefaultEpsilon)
        where T : unmanaged
    {
        var dx = TestData.Poisoned<T>(x.Length);
        var dw = TestData.Poisoned<T>(weight.Length);
        var (x0, dy0, w0) = ((T[])x.Clone(), (T[])dy.Clone(), (T[])weight.Clone());
        RmsNormBackward.Compute<T>(dy, x, shape, normalizedShape, weight, dx, dw, rstd, Backends.Options(backend, epsilon, numGroups));
        Assert.Equal(x0, x);
        Assert.Equal(dy0, dy);
        Assert.Equal(w0, weight);
        return (dx, dw);
    }

    public static (T[] Dx, T[] Dw) AgainstReference<T>(string backend, T[] dy, T[] x, int[] shape, int[] normalizedShape, T[] weight, float[]? rstd = null, int numGroups = 1, double epsilon = RmsNormOptions.DefaultEpsilon)
        where T : unmanaged
    {
        var (dx, dw) = Run(backend, dy, x, shape, normalizedShape, weight, rstd, numGroups, epsilon);
        var expected = BackwardReference.Compute<T>(dy, x, shape, normalizedShape, weight, epsilon, numGroups, savedRstd: rstd is not null);
        string context = $"{backend} {typeof(T).Name} shape [{string.Join(",", shape)}] groups {numGroups} weight {weight.Length > 0} rstd {rstd is not null}";
        for (int i = 0; i < dx.Length; i++)
        {
            double actual = Elements.ToDouble(dx[i]);
            Assert.True(BackwardReference.Accepts(actual, expected.Dx[i], expected.DxBound[i]),
                $"{context}: dx[{i}] = {actual:R}, expected {expected.Dx[i]:R} ± {expected.DxBound[i]:R}");
        }

        for (int j = 0; j < dw.Length; j++)
        {
            double actual = Elements.ToDouble(dw[j]);
            Assert.True(BackwardReference.Accepts(actual, expected.Dweight[j], expected.DweightBound[j]),
                $"{context}: dweight[{j}] = {actual:R}, expected {expected.Dweight[j]:R} ± {expected.DweightBound[j]:R}");
        }

        return (dx, dw);
    }
}
