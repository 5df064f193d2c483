using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// The fused residual add on every backend and dtype: the residual becomes (T)(x + residual) exactly, and the output
/// equals, bit for bit, the unfused add followed by rms_norm on the same backend, and the policy reference.
/// </summary>
public class FusedAddTests
{
    public static TheoryData<string, string> Cases() => Dtypes.BackendsByDtype();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_EqualsUnfused_BitForBit_UnderEveryPolicy(string backend, string dtype) =>
        Dtypes.Run(dtype, new FusedEqualsUnfused(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_InPlaceOutput_AndRerun_GiveTheSameBits(string backend, string dtype) =>
        Dtypes.Run(dtype, new InPlaceAndRerun(backend));

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Fused_SpecialValues_PropagateThroughTheSum(string backend)
    {
        int hidden = 33;
        var x = TestData.Random<float>(4 * hidden, 501);
        var r = TestData.Random<float>(4 * hidden, 502);
        x[2] = float.NaN;
        r[hidden + 1] = float.PositiveInfinity;
        for (int i = 2 * hidden; i < 3 * hidden; i++)
        {
            r[i] = -x[i]; // the sum is an all-zero row
        }

        var expectedResidual = RmsNormPolicyReference.AddResidual<float>(x, r);
        var y = TestData.Poisoned<float>(x.Length);
        var options = Backends.Options(backend);
        RmsNorm.ComputeFusedAdd<float>(x, r, [4, hidden], [hidden], default, default, y, options);
        PolicyCheck.AssertSameBits(expectedResidual, r, backend + " residual");
        PolicyCheck.AssertMatches(y, r, [4, hidden], [hidden], [], [], options, backend);
        Assert.All(y.AsSpan(2 * hidden, hidden).ToArray(), v => Assert.Equal(0f, v));
    }

    public static TheoryData<string> BackendNames() => Backends.All();

    private static readonly (int Rows, int Hidden, int Groups)[] Shapes = [(1, 1, 1), (3, 31, 1), (2, 33, 1), (5, 127, 1), (4, 96, 4), (2, 8193, 1)];

    private sealed record FusedEqualsUnfused(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int seed = 400;
            int k = 0;
            foreach (var (rows, hidden, groups) in Shapes)
            {
                var policy = PolicyCheck.Policies[k++ % 3];
                var x = TestData.Random<T>(rows * hidden, seed++);
                var residual = TestData.Random<T>(rows * hidden, seed++);
                var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                var b = TestData.Random<T>(hidden, seed++);
                foreach (var (weight, bias, offset) in new[] { (w, b, 1f), (w, Array.Empty<T>(), 0f), (Array.Empty<T>(), Array.Empty<T>(), 0f) })
                {
                    var options = PolicyCheck.Options(Backend, policy, offset, numGroups: groups);
                    int[] shape = [rows, hidden];
                    int[] normalized = [hidden];

                    var fusedResidual = (T[])residual.Clone();
                    var xBefore = (T[])x.Clone();
                    var fused = TestData.Poisoned<T>(x.Length);
                    RmsNorm.ComputeFusedAdd<T>(x, fusedResidual, shape, normalized, weight, bias, fused, options);
                    PolicyCheck.AssertSameBits(xBefore, x, "input unchanged");

                    var sum = RmsNormPolicyReference.AddResidual<T>(x, residual);
                    PolicyCheck.AssertSameBits(sum, fusedResidual, $"{Backend} residual");

                    var unfused = TestData.Poisoned<T>(x.Length);
                    RmsNorm.Compute<T>(sum, shape, normalized, weight, bias, unfused, options);
                    PolicyCheck.AssertSameBits(unfused, fused, $"{Backend} {policy} [{rows},{hidden}] fused vs unfused");
                    PolicyCheck.AssertMatches(fused, sum, shape, normalized, weight, bias, options, Backend + " fused");
                }
            }
        }
    }

    private sealed record InPlaceAndRerun(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var x = TestData.Random<T>(3 * 65, 450);
            var residual = TestData.Random<T>(3 * 65, 451);
            var w = TestData.Random<T>(65, 452, scale: 2.0);
            var options = PolicyCheck.Options(Backend, RmsNormPolicy.WeightInFloat32, 1f);

            var r1 = (T[])residual.Clone();
            var y1 = TestData.Poisoned<T>(x.Length);
            RmsNorm.ComputeFusedAdd<T>(x, r1, [3, 65], [65], w, default, y1, options);

            // vLLM's form: the output overwrites the input.
            var r2 = (T[])residual.Clone();
            var inPlace = (T[])x.Clone();
            RmsNorm.ComputeFusedAdd<T>(inPlace, r2, [3, 65], [65], w, default, inPlace, options);
            PolicyCheck.AssertSameBits(y1, inPlace, Backend + " in place");
            PolicyCheck.AssertSameBits(r1, r2, Backend + " residual in place");

            var r3 = (T[])residual.Clone();
            var y3 = TestData.Poisoned<T>(x.Length);
            RmsNorm.ComputeFusedAdd<T>(x, r3, [3, 65], [65], w, default, y3, options);
            PolicyCheck.AssertSameBits(y1, y3, Backend + " rerun");
        }
    }
}
