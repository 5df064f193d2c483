using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests.Backward;

/// <summary>The backward pass on every backend and dtype: against the float64 analytic reference and, on float64, finite differences.</summary>
public class RmsNormBackwardTests
{
    private static readonly int[] Hidden = [1, 2, 31, 33, 127, 1000, 8193];

    public static TheoryData<string, string> Cases() => Dtypes.BackendsByDtype();

    public static TheoryData<string> BackendNames() => Backends.All();

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference_AcrossShapes_WithAndWithoutWeight(string backend, string dtype) =>
        Dtypes.Run(dtype, new AcrossShapes(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReference_WithGroups_MultiDim_AndEpsilons(string backend, string dtype) =>
        Dtypes.Run(dtype, new GroupsAndShapes(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void SavedRstd_FromForward_GivesTheSameGradients_AndTheForwardsBits(string backend, string dtype) =>
        Dtypes.Run(dtype, new SavedRstd(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void ZeroAndNaNRows_FollowThePolicy(string backend, string dtype) =>
        Dtypes.Run(dtype, new SpecialRows(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameBits_OnRerun(string backend, string dtype) =>
        Dtypes.Run(dtype, new Determinism(backend));

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Float64_MatchesCentralFiniteDifferences(string backend)
    {
        // L(x, w) = Σ g · (x · r · w): its gradient is (dx, dweight) with dy = g.
        foreach (var (rows, hidden, groups) in new[] { (3, 7, 1), (2, 12, 3), (4, 1, 1) })
        {
            var x = TestData.Random<double>(rows * hidden, 61 + hidden);
            var w = TestData.Random<double>(hidden, 62 + hidden);
            var g = TestData.Random<double>(rows * hidden, 63 + hidden);
            const double Eps = 1e-3;
            var (dx, dw) = BackwardCheck.Run(backend, g, x, [rows, hidden], [hidden], w, numGroups: groups, epsilon: Eps);
            for (int i = 0; i < x.Length; i++)
            {
                double fd = Central(h => Loss(Shift(x, i, h), w, g, hidden / groups, Eps), x[i]);
                Assert.True(Math.Abs(fd - dx[i]) <= 1e-7 * (1 + Math.Abs(dx[i])), $"{backend} [{rows},{hidden}] groups {groups}: dx[{i}] = {dx[i]:R}, finite difference {fd:R}");
            }

            for (int j = 0; j < w.Length; j++)
            {
                double fd = Central(h => Loss(x, Shift(w, j, h), g, hidden / groups, Eps), w[j]);
                Assert.True(Math.Abs(fd - dw[j]) <= 1e-7 * (1 + Math.Abs(dw[j])), $"{backend} [{rows},{hidden}] groups {groups}: dweight[{j}] = {dw[j]:R}, finite difference {fd:R}");
            }
        }
    }

    private static double Central(Func<double, double> loss, double at)
    {
        double h = 1e-5 * Math.Max(1, Math.Abs(at));
        return (loss(h) - loss(-h)) / (2 * h);
    }

    private static double[] Shift(double[] values, int index, double h)
    {
        var copy = (double[])values.Clone();
        copy[index] += h;
        return copy;
    }

    private static double Loss(double[] x, double[] w, double[] g, int n, double eps)
    {
        double loss = 0;
        for (int s = 0; s < x.Length / n; s++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += x[s * n + i] * x[s * n + i];
            }

            double r = 1 / Math.Sqrt(sum / n + eps);
            int wOffset = s * n % w.Length;
            for (int i = 0; i < n; i++)
            {
                loss += g[s * n + i] * x[s * n + i] * r * w[wOffset + i];
            }
        }

        return loss;
    }

    private sealed record AcrossShapes(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int[] rowsSet = Backends.IsSlow(Backend) ? [1, 3] : [1, 3, 19, 257];
            int seed = 200;
            foreach (int rows in rowsSet)
            {
                foreach (int hidden in Hidden)
                {
                    if (rows * (long)hidden > 300_000)
                    {
                        continue;
                    }

                    var x = TestData.Random<T>(rows * hidden, seed++);
                    var dy = TestData.Random<T>(rows * hidden, seed++);
                    var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                    BackwardCheck.AgainstReference(Backend, dy, x, [rows, hidden], [hidden], w);
                    BackwardCheck.AgainstReference(Backend, dy, x, [rows, hidden], [hidden], Array.Empty<T>());
                }
            }
        }
    }

    private sealed record GroupsAndShapes(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var x = TestData.Random<T>(5 * 96, 301);
            var dy = TestData.Random<T>(5 * 96, 302);
            var w = TestData.Random<T>(96, 303);
            BackwardCheck.AgainstReference(Backend, dy, x, [5, 96], [96], w, numGroups: 3);
            BackwardCheck.AgainstReference(Backend, dy, x, [5, 96], [96], Array.Empty<T>(), numGroups: 32);
            BackwardCheck.AgainstReference(Backend, dy, x, [5, 4, 24], [4, 24], w);
            BackwardCheck.AgainstReference(Backend, dy, x, [480], [480], TestData.Random<T>(480, 304));
            BackwardCheck.AgainstReference(Backend, dy, x, [5, 96], [96], w, epsilon: 0);
            BackwardCheck.AgainstReference(Backend, dy, x, [5, 96], [96], w, epsilon: 0.5);
        }
    }

    private sealed record SavedRstd(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int rows = 9, hidden = 130;
            var x = TestData.Random<T>(rows * hidden, 401);
            var dy = TestData.Random<T>(rows * hidden, 402);
            var w = TestData.Random<T>(hidden, 403);
            foreach (int groups in new[] { 1, 2 })
            {
                var options = Backends.Options(Backend, numGroups: groups);
                var y = TestData.Poisoned<T>(x.Length);
                var rstd = new float[rows * groups];
                Array.Fill(rstd, float.NaN);
                RmsNormBackward.Forward<T>(x, [rows, hidden], [hidden], w, y, rstd, options);
                Assert.Equal(RmsNorm.Compute<T>(x, [rows, hidden], [hidden], w, options), y);

                // rstd is 1/sqrt(mean(x²) + eps) to float32 precision.
                int n = hidden / groups;
                for (int s = 0; s < rstd.Length; s++)
                {
                    double sum = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double v = Elements.ToDouble(x[s * n + i]);
                        sum += v * v;
                    }

                    double expected = 1 / Math.Sqrt(sum / n + (float)RmsNormOptions.DefaultEpsilon);
                    Assert.True(Math.Abs(rstd[s] - expected) <= 8 * Math.ScaleB(1.0, -24) * expected, $"rstd[{s}] = {rstd[s]:R}, expected {expected:R}");
                }

                BackwardCheck.AgainstReference(Backend, dy, x, [rows, hidden], [hidden], w, rstd, numGroups: groups);
            }
        }
    }

    private sealed record SpecialRows(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int hidden = 33;
            var x = TestData.Random<T>(4 * hidden, 501);
            var dy = TestData.Random<T>(4 * hidden, 502);
            var w = TestData.Random<T>(hidden, 503);
            for (int i = 0; i < hidden; i++)
            {
                x[hidden + i] = TestData.Value<T>(0); // row 1: all zero (finite: r = 1/sqrt(eps))
            }

            // Zero rows follow the reference; dweight too.
            BackwardCheck.AgainstReference(Backend, dy, x, [4, hidden], [hidden], w);

            // A NaN in row 2 makes that row's dx NaN and every dweight NaN; the other rows are untouched by it.
            x[2 * hidden + 3] = TestData.Value<T>(double.NaN);
            var (dx, dw) = BackwardCheck.Run(Backend, dy, x, [4, hidden], [hidden], w);
            for (int i = 0; i < 4 * hidden; i++)
            {
                bool nan = double.IsNaN(Elements.ToDouble(dx[i]));
                Assert.True(nan == (i / hidden == 2), $"dx[{i}] NaN = {nan}");
            }

            Assert.All(dw, v => Assert.True(double.IsNaN(Elements.ToDouble(v))));
            var clean = x.AsSpan(0, 2 * hidden).ToArray();
            var (dxClean, _) = BackwardCheck.Run(Backend, dy.AsSpan(0, 2 * hidden).ToArray(), clean, [2, hidden], [hidden], w);
            Assert.Equal(dxClean, dx.AsSpan(0, 2 * hidden).ToArray());
        }
    }

    private sealed record Determinism(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int rows = Backends.IsSlow(Backend) ? 6 : 300, hidden = 257;
            var x = TestData.Random<T>(rows * hidden, 601);
            var dy = TestData.Random<T>(rows * hidden, 602);
            var w = TestData.Random<T>(hidden, 603);
            var (dx1, dw1) = BackwardCheck.Run(Backend, dy, x, [rows, hidden], [hidden], w);
            var (dx2, dw2) = BackwardCheck.Run(Backend, dy, x, [rows, hidden], [hidden], w);
            Assert.Equal(dx1, dx2);
            Assert.Equal(dw1, dw2);
        }
    }
}
