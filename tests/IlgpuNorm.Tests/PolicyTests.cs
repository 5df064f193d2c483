using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The rounding policies, the weight offset and the bias on every backend and dtype, element for element against the policy-exact reference.</summary>
public class PolicyTests
{
    private static readonly int[] Hidden = [1, 31, 33, 127, 1000, 8193];

    public static TheoryData<string, string> Cases() => Dtypes.BackendsByDtype();

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryPolicy_WithOffsetAndBias_MatchesThePolicyReference(string backend, string dtype) =>
        Dtypes.Run(dtype, new AcrossShapes(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryPolicy_NaNInfAndZeroRows_MatchThePolicyReference(string backend, string dtype) =>
        Dtypes.Run(dtype, new SpecialValues(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryPolicy_WithGroups_AndSameBitsOnRerun(string backend, string dtype) =>
        Dtypes.Run(dtype, new GroupsAndRerun(backend));

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Float32_TensorRtLlmAndWeightInFloat32_GiveTheSameBits(string backend)
    {
        var x = TestData.Random<float>(7 * 129, 41);
        var w = TestData.Random<float>(129, 42, scale: 2.0);
        var b = TestData.Random<float>(129, 43, scale: 1.0);
        var y1 = TestData.Poisoned<float>(x.Length);
        var y2 = TestData.Poisoned<float>(x.Length);
        RmsNorm.Compute<float>(x, [7, 129], [129], w, b, y1, PolicyCheck.Options(backend, RmsNormPolicy.TensorRtLlm, 1f));
        RmsNorm.Compute<float>(x, [7, 129], [129], w, b, y2, PolicyCheck.Options(backend, RmsNormPolicy.WeightInFloat32, 1f));
        PolicyCheck.AssertSameBits(y1, y2, backend);
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Float64_AllPoliciesAgree_UpToFloat64Rounding(string backend)
    {
        var x = TestData.Random<double>(5 * 257, 51);
        var w = TestData.Random<double>(257, 52, scale: 2.0);
        var results = PolicyCheck.Policies.Select(policy =>
        {
            var y = TestData.Poisoned<double>(x.Length);
            RmsNorm.Compute<double>(x, [5, 257], [257], w, default, y, PolicyCheck.Options(backend, policy, 1f));
            return y;
        }).ToArray();
        foreach (var other in results.Skip(1))
        {
            Check.AssertClose(results[0], other, $"{backend} float64 policies");
        }

        PolicyCheck.AssertSameBits(results[0], results[1], $"{backend} float64 TensorRtLlm vs WeightInFloat32");
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void DefaultPolicy_ThroughTheExtendedPath_GivesTheOriginalBits(string backend)
    {
        // A zero bias does not change the TensorRtLlm result ((T)(y + 0) = y), but takes the extended path.
        var x = TestData.Random<Half>(6 * 200, 61);
        var w = TestData.Random<Half>(200, 62, scale: 2.0);
        var zero = new Half[200];
        var plain = RmsNorm.Compute<Half>(x, [6, 200], [200], w, Backends.Options(backend));
        var extended = TestData.Poisoned<Half>(x.Length);
        RmsNorm.Compute<Half>(x, [6, 200], [200], w, zero, extended, Backends.Options(backend));
        PolicyCheck.AssertSameBits(plain, extended, backend);
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void Gemma_OffsetOne_EqualsAWeightOfOnePlusW_WhenThatIsExact(string backend)
    {
        // bfloat16 weights in [-1, 1) with few bits: 1 + w is exact in bfloat16, so offset 1 equals a weight of (1 + w).
        var x = TestData.Random<BFloat16>(4 * 64, 71);
        var w = new BFloat16[64];
        var onePlusW = new BFloat16[64];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (BFloat16)((i % 16 - 8) / 16f);
            onePlusW[i] = (BFloat16)(1 + (i % 16 - 8) / 16f);
        }

        foreach (var policy in PolicyCheck.Policies)
        {
            var gemma = TestData.Poisoned<BFloat16>(x.Length);
            var explicitWeight = TestData.Poisoned<BFloat16>(x.Length);
            RmsNorm.Compute<BFloat16>(x, [4, 64], [64], w, default, gemma, PolicyCheck.Options(backend, policy, 1f));
            RmsNorm.Compute<BFloat16>(x, [4, 64], [64], onePlusW, default, explicitWeight, PolicyCheck.Options(backend, policy));
            PolicyCheck.AssertSameBits(explicitWeight, gemma, $"{backend} {policy}");
        }
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void OriginalOverloads_HonourThePolicyAndOffsetInTheOptions(string backend)
    {
        var x = TestData.Random<BFloat16>(3 * 50, 75);
        var w = TestData.Random<BFloat16>(50, 76, scale: 2.0);
        foreach (var policy in PolicyCheck.Policies)
        {
            var options = PolicyCheck.Options(backend, policy, 1f);
            var allocated = RmsNorm.Compute<BFloat16>(x, [3, 50], [50], w, options);
            var into = TestData.Poisoned<BFloat16>(x.Length);
            RmsNorm.Compute<BFloat16>(x, [3, 50], [50], w, into, options);
            PolicyCheck.AssertMatches(allocated, x, [3, 50], [50], w, [], options, backend + " allocating overload");
            PolicyCheck.AssertSameBits(allocated, into, backend + " destination overload");
        }
    }

    [Fact]
    public void Reference_RejectsAWrongOutput_UnderEveryPolicy()
    {
        // The check must be able to fail: one element moved by 2 ulp of float16 past the policy's result.
        var x = TestData.Random<Half>(3 * 40, 81);
        var w = TestData.Random<Half>(40, 82, scale: 2.0);
        var b = TestData.Random<Half>(40, 83);
        foreach (var policy in PolicyCheck.Policies)
        {
            var options = new RmsNormOptions { Policy = policy, WeightOffset = 1f };
            var good = RmsNormPolicyReference.Compute<Half>(x, [3, 40], [40], w, b, options);
            Assert.Null(RmsNormPolicyReference.Mismatch<Half>(good, x, [3, 40], [40], w, b, options));
            var bad = (Half[])good.Clone();
            bad[17] = Ulp.Next(Ulp.Next(bad[17], down: false), down: false);
            Assert.Contains("element 17", RmsNormPolicyReference.Mismatch<Half>(bad, x, [3, 40], [40], w, b, options), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Policies_DifferForFloat16_SoTheTestsCanTellThemApart()
    {
        // With a weight and a bias the three policies round differently; on enough data some element differs.
        var x = TestData.Random<Half>(8 * 256, 91);
        var w = TestData.Random<Half>(256, 92, scale: 2.0);
        var b = TestData.Random<Half>(256, 93);
        var results = PolicyCheck.Policies.Select(p => RmsNormPolicyReference.Compute<Half>(x, [8, 256], [256], w, b, new RmsNormOptions { Policy = p })).ToArray();
        Assert.NotEqual(results[0], results[1]);
        Assert.NotEqual(results[0], results[2]);
        Assert.NotEqual(results[1], results[2]);
    }

    public static TheoryData<string> BackendNames() => Backends.All();

    private sealed record AcrossShapes(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int[] rowsSet = Backends.IsSlow(Backend) ? [2] : [1, 3, 19];
            int seed = 100;
            foreach (var policy in PolicyCheck.Policies)
            {
                foreach (int rows in rowsSet)
                {
                    foreach (int hidden in Hidden)
                    {
                        var x = TestData.Random<T>(rows * hidden, seed++);
                        var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                        var b = TestData.Random<T>(hidden, seed++, scale: 1.0);
                        int[] shape = [rows, hidden];
                        int[] normalized = [hidden];
                        Run(x, shape, normalized, w, b, PolicyCheck.Options(Backend, policy, 1f));
                        Run(x, shape, normalized, w, [], PolicyCheck.Options(Backend, policy, 0.5f));
                        Run(x, shape, normalized, [], b, PolicyCheck.Options(Backend, policy));
                        if (!Backends.IsSlow(Backend))
                        {
                            Run(x, shape, normalized, w, [], PolicyCheck.Options(Backend, policy));
                            Run(x, shape, normalized, [], [], PolicyCheck.Options(Backend, policy));
                        }
                    }
                }
            }
        }

        private void Run<T>(T[] x, int[] shape, int[] normalized, T[] w, T[] b, RmsNormOptions options)
            where T : unmanaged
        {
            var before = (T[])x.Clone();
            var y = TestData.Poisoned<T>(x.Length);
            RmsNorm.Compute<T>(x, shape, normalized, w, b, y, options);
            PolicyCheck.AssertSameBits(before, x, "input unchanged");
            PolicyCheck.AssertMatches(y, x, shape, normalized, w, b, options, Backend);
        }
    }

    private sealed record SpecialValues(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int hidden = 37;
            var x = TestData.Random<T>(5 * hidden, 201);
            x[3] = TestData.Value<T>(double.NaN);
            x[hidden + 5] = TestData.Value<T>(double.PositiveInfinity);
            x[(2 * hidden) + 6] = TestData.Value<T>(double.NegativeInfinity);
            Array.Fill(x, TestData.Value<T>(0), 3 * hidden, hidden);
            var w = TestData.Random<T>(hidden, 202, scale: 2.0);
            var b = TestData.Random<T>(hidden, 203);
            foreach (var policy in PolicyCheck.Policies)
            {
                foreach (double eps in new[] { 1e-6, 0.0 })
                {
                    var options = PolicyCheck.Options(Backend, policy, 1f, eps);
                    var y = TestData.Poisoned<T>(x.Length);
                    RmsNorm.Compute<T>(x, [5, hidden], [hidden], w, b, y, options);
                    PolicyCheck.AssertMatches(y, x, [5, hidden], [hidden], w, b, options, Backend);
                    Assert.True(double.IsNaN(Elements.ToDouble(y[0])), "a NaN row is NaN");
                }
            }
        }
    }

    private sealed record GroupsAndRerun(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var x = TestData.Random<T>(3 * 96, 301);
            var w = TestData.Random<T>(96, 302, scale: 2.0);
            var b = TestData.Random<T>(96, 303);
            foreach (var policy in PolicyCheck.Policies)
            {
                var options = PolicyCheck.Options(Backend, policy, 1f, numGroups: 4);
                var y = TestData.Poisoned<T>(x.Length);
                RmsNorm.Compute<T>(x, [3, 96], [96], w, b, y, options);
                PolicyCheck.AssertMatches(y, x, [3, 96], [96], w, b, options, Backend + " groups 4");
                var again = TestData.Poisoned<T>(x.Length);
                RmsNorm.Compute<T>(x, [3, 96], [96], w, b, again, options);
                PolicyCheck.AssertSameBits(y, again, $"{Backend} {policy} rerun");
            }
        }
    }
}
