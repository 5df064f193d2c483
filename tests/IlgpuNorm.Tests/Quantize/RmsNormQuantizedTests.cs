using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>The quantized rms_norm on every backend and dtype, against the float64 reference quantizer.</summary>
public class RmsNormQuantizedTests
{
    private static readonly int[] Hidden = [1, 31, 33, 127, 1000, 8193];

    private static readonly QuantizeOptions[] Modes =
    [
        new() { Format = QuantizeFormat.Int8 },
        new() { Format = QuantizeFormat.Float8E4M3 },
        new() { Format = QuantizeFormat.Int8, StaticScale = 0.02f },
        new() { Format = QuantizeFormat.Float8E4M3, StaticScale = 0.01f },
    ];

    public static TheoryData<string, string> Cases() => Dtypes.BackendsByDtype();

    public static TheoryData<string> BackendNames() => Backends.All();

    [Theory]
    [MemberData(nameof(Cases))]
    public void DynamicAndStatic_Int8AndFp8_MatchReference_AcrossShapes(string backend, string dtype) =>
        Dtypes.Run(dtype, new AcrossShapes(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Clamp_Groups_AndMultiDimShapes_MatchReference(string backend, string dtype) =>
        Dtypes.Run(dtype, new ClampAndGroups(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void NaNInfAndZeroRows_FollowThePolicy(string backend, string dtype) =>
        Dtypes.Run(dtype, new SpecialRows(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameBits_OnRerun_AndAcrossBatchSizes(string backend, string dtype) =>
        Dtypes.Run(dtype, new Determinism(backend));

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void StaticScale_Saturates_AndFillsTheScales(string backend)
    {
        // Values near ±sqrt(n)·|w| with a tiny scale: every code saturates at ±127 / ±448; -128 never appears.
        int hidden = 64;
        var x = TestData.Random<float>(2 * hidden, 5).Select(v => v + MathF.CopySign(1f, v)).ToArray(); // |x| >= 1
        var w = TestData.Random<float>(hidden, 6).Select(v => v + MathF.CopySign(1f, v)).ToArray();
        foreach (var format in new[] { QuantizeFormat.Int8, QuantizeFormat.Float8E4M3 })
        {
            var options = new QuantizeOptions { Format = format, StaticScale = 1e-4f };
            var (codes, scales) = QuantCheck.AgainstReference(backend, x, [2, hidden], [hidden], w, options);
            Assert.All(scales, s => Assert.Equal(1e-4f, s));
            double max = format == QuantizeFormat.Int8 ? 127 : 448;
            Assert.All(codes, c => Assert.Equal(max, Math.Abs(QuantReference.Decode(c, format))));
        }
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void StaticScale_WithEmptyScales_WritesOnlyCodes(string backend)
    {
        var x = TestData.Random<float>(3 * 40, 9);
        var codes = new byte[x.Length];
        Array.Fill(codes, (byte)0x80);
        var options = new QuantizeOptions { Format = QuantizeFormat.Int8, StaticScale = 0.05f };
        RmsNormQuantized.Compute<float>(x, [3, 40], [40], default, codes, default, options, Backends.Options(backend));
        var result = QuantReference.Check<float>(x, [3, 40], [40], default, options, RmsNormOptions.DefaultEpsilon, 1, codes, default);
        Assert.True(result.Passed, result.FirstFailure);
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void SbyteOverload_GivesTheSameCodes(string backend)
    {
        var x = TestData.Random<Half>(5 * 33, 21);
        var options = new QuantizeOptions();
        var bytes = new byte[x.Length];
        var sbytes = new sbyte[x.Length];
        var s1 = new float[5];
        var s2 = new float[5];
        RmsNormQuantized.Compute<Half>(x, [5, 33], [33], default, bytes, s1, options, Backends.Options(backend));
        RmsNormQuantized.Compute<Half>(x, [5, 33], [33], default, sbytes, s2, options, Backends.Options(backend));
        Assert.Equal(bytes, sbytes.Select(v => (byte)v).ToArray());
        Assert.Equal(s1, s2);
        Assert.DoesNotContain((sbyte)-128, sbytes);
    }

    private sealed record AcrossShapes(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int[] rowsSet = Backends.IsSlow(Backend) ? [1, 3] : [1, 3, 19];
            int seed = 100;
            foreach (int rows in rowsSet)
            {
                foreach (int hidden in Hidden)
                {
                    var x = TestData.Random<T>(rows * hidden, seed++);
                    var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                    foreach (var mode in Modes)
                    {
                        QuantCheck.AgainstReference(Backend, x, [rows, hidden], [hidden], w, mode);
                        QuantCheck.AgainstReference(Backend, x, [rows, hidden], [hidden], Array.Empty<T>(), mode);
                    }
                }
            }
        }
    }

    private sealed record ClampAndGroups(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var x = TestData.Random<T>(7 * 96, 31);
            var w = TestData.Random<T>(96, 32, scale: 2.0);
            foreach (var format in new[] { QuantizeFormat.Int8, QuantizeFormat.Float8E4M3 })
            {
                // The clamp binds (|v| reaches ~sqrt(3)·2) and caps the dynamic scale at clamp / qmax.
                var clamped = new QuantizeOptions { Format = format, Clamp = 0.75f };
                var (_, scales) = QuantCheck.AgainstReference(Backend, x, [7, 96], [96], w, clamped);
                Assert.All(scales, s => Assert.True(s <= 0.75f / clamped.QMax * (1 + 1e-6), $"scale {s} above clamp / qmax"));
                QuantCheck.AgainstReference(Backend, x, [7, 96], [96], w, clamped with { StaticScale = 0.004f });
                QuantCheck.AgainstReference(Backend, x, [7, 96], [96], w, new QuantizeOptions { Format = format }, numGroups: 3);
                QuantCheck.AgainstReference(Backend, x, [7, 96], [96], Array.Empty<T>(), new QuantizeOptions { Format = format }, numGroups: 4);
                QuantCheck.AgainstReference(Backend, x, [7, 4, 24], [4, 24], TestData.Random<T>(96, 33), new QuantizeOptions { Format = format });
                QuantCheck.AgainstReference(Backend, x, [7, 96], [96], w, new QuantizeOptions { Format = format }, epsilon: 0.5);
            }
        }
    }

    private sealed record SpecialRows(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int hidden = 37;
            var x = TestData.Random<T>(6 * hidden, 41);
            var w = TestData.Random<T>(hidden, 42);
            for (int i = 0; i < hidden; i++)
            {
                x[hidden + i] = TestData.Value<T>(0); // row 1: all zero
            }

            x[2 * hidden + 5] = TestData.Value<T>(double.NaN); // row 2: one NaN
            x[3 * hidden + 7] = TestData.Value<T>(double.PositiveInfinity); // row 3: one +Inf
            x[4 * hidden + 9] = TestData.Value<T>(double.NegativeInfinity); // row 4: one -Inf
            foreach (var format in new[] { QuantizeFormat.Int8, QuantizeFormat.Float8E4M3 })
            {
                var options = new QuantizeOptions { Format = format };
                var (codes, scales) = QuantCheck.AgainstReference(Backend, x, [6, hidden], [hidden], w, options);
                byte nanCode = format == QuantizeFormat.Int8 ? (byte)0 : Fp8E4M3.NaN;
                Assert.Equal(options.MinScale, scales[1]);
                Assert.All(codes.AsSpan(hidden, hidden).ToArray(), c => Assert.Equal(0, QuantReference.Decode(c, format)));
                Assert.All(codes.AsSpan(2 * hidden, hidden).ToArray(), c => Assert.Equal(nanCode, c));
                Assert.Equal(options.MinScale, scales[2]);
                for (int row = 3; row <= 4; row++)
                {
                    int inf = row == 3 ? 7 : 9;
                    for (int i = 0; i < hidden; i++)
                    {
                        double value = QuantReference.Decode(codes[row * hidden + i], format);
                        Assert.True(i == inf ? (format == QuantizeFormat.Int8 ? value == 0 : double.IsNaN(value)) : value == 0, $"{format} row {row} element {i}: {value}");
                    }
                }
            }
        }
    }

    private sealed record Determinism(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int hidden = 1000;
            int rows = Backends.IsSlow(Backend) ? 4 : 300; // 300 000 elements: the host splits them over threads
            var x = TestData.Random<T>(rows * hidden, 51);
            var w = TestData.Random<T>(hidden, 52);
            var options = new QuantizeOptions { Format = QuantizeFormat.Float8E4M3 };
            var (codes1, scales1) = QuantCheck.AgainstReference(Backend, x, [rows, hidden], [hidden], w, options);
            var (codes2, scales2) = QuantCheck.Run(Backend, x, [rows, hidden], [hidden], w, options);
            Assert.Equal(codes1, codes2);
            Assert.Equal(scales1, scales2);

            // Row 1 alone gives the row's bits within the batch.
            var row = x.AsSpan(hidden, hidden).ToArray();
            var (codes3, scales3) = QuantCheck.Run(Backend, row, [1, hidden], [hidden], w, options);
            Assert.Equal(codes1.AsSpan(hidden, hidden).ToArray(), codes3);
            Assert.Equal(scales1[1], scales3[0]);
        }
    }
}
