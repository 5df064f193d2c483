using IlgpuNorm.Host;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The host's streaming (non-temporal) stores for inputs larger than the last-level cache: the same bits as ordinary stores.</summary>
public class HostStreamingTests
{
    public static TheoryData<int, int, bool> Rows() => new()
    {
        { 32, 0, false }, { 33, 1, true }, { 47, 3, false }, { 64, 5, true }, { 127, 15, true }, { 4096, 0, true }, { 4099, 7, false }, { 8193, 13, true },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void StreamingRows_EqualOrdinaryRows_BitForBit_AtEveryAlignment(int n, int offset, bool weighted)
    {
        var x = TestData.Random<float>(n + offset + 16, n * 31 + offset);
        var w = weighted ? TestData.Random<float>(n, n + 7) : [];
        var plain = TestData.Poisoned<float>(n + offset);
        var streamed = TestData.Poisoned<float>(n + offset);
        var xs = x.AsSpan(offset, n);
        float d = MathF.Sqrt(HostRows.SumOfSquares(xs) / n + 1e-6f);
        HostRowsHelper.Normalize<float, float, Float32Storage>(xs, d, w, plain.AsSpan(offset, n));
        HostRowsHelper.Normalize<float, float, Float32Storage>(xs, d, w, streamed.AsSpan(offset, n), streaming: true);
        Assert.Equal(plain, streamed); // the poisoned head before the offset stays poisoned in both

        var x64 = TestData.Random<double>(n + offset, n + 3);
        var plain64 = TestData.Poisoned<double>(n + offset);
        var streamed64 = TestData.Poisoned<double>(n + offset);
        HostRowsHelper.Normalize<double, double, Float64Storage>(x64.AsSpan(offset), 1.7, default, plain64.AsSpan(offset));
        HostRowsHelper.Normalize<double, double, Float64Storage>(x64.AsSpan(offset), 1.7, default, streamed64.AsSpan(offset), streaming: true);
        Assert.Equal(plain64, streamed64);

        // 16-bit rows: the streaming path narrows two vectors into one line-sized store.
        StreamedSixteenBit<Float16Storage>(n, offset, weighted);
        StreamedSixteenBit<BFloat16Storage>(n, offset, weighted);
    }

    private static void StreamedSixteenBit<S>(int n, int offset, bool weighted)
        where S : IStorage<ushort, float>
    {
        var x = TestData.Random<float>(n + offset, n * 17 + offset).Select(S.Narrow).ToArray();
        x[offset + (n / 2)] = S.Narrow(float.NaN); // a NaN and an infinity take the special-value lanes
        x[offset + (n / 3)] = S.Narrow(float.NegativeInfinity);
        var w = weighted ? TestData.Random<float>(n, n + 5).Select(v => S.Widen(S.Narrow(v))).ToArray() : [];
        var plain = Enumerable.Repeat((ushort)0x5A5A, n + offset).ToArray();
        var streamed = plain.ToArray();
        HostRowsHelper.Normalize<ushort, float, S>(x.AsSpan(offset), 1.3f, w, plain.AsSpan(offset));
        HostRowsHelper.Normalize<ushort, float, S>(x.AsSpan(offset), 1.3f, w, streamed.AsSpan(offset), streaming: true);
        Assert.Equal(plain, streamed);
        Assert.All(plain.Take(offset), v => Assert.Equal(0x5A5A, v)); // before the row: untouched
        Assert.DoesNotContain((ushort)0x5A5A, plain.Skip(offset)); // the row: every element written (|y| < 8 here)
    }

    [Fact]
    public void LargerThanTheCache_StreamsAndMatchesTheReference()
    {
        // Enough rows that x + y exceed the last-level cache, so the public call takes the streaming path.
        const int Hidden = 4096;
        int rows = (int)(HostCache.LastLevelBytes / (2 * sizeof(float) * Hidden)) + 3;
        Assert.True(HostCache.ShouldStream((long)rows * Hidden * 2 * sizeof(float)));
        var x = TestData.Random<float>(rows * Hidden, 77);
        var w = TestData.Random<float>(Hidden, 78);
        var y = TestData.Poisoned<float>(x.Length);
        RmsNorm.Compute<float>(x, [rows, Hidden], [Hidden], w, y, new RmsNormOptions { Device = DeviceRequest.Host });

        // Every row against the float64 reference would take seconds; check a spread of whole rows, first and last included.
        foreach (int row in new[] { 0, 1, rows / 3, rows / 2, rows - 2, rows - 1 })
        {
            var xr = x.AsSpan(row * Hidden, Hidden).ToArray();
            var yr = y.AsSpan(row * Hidden, Hidden).ToArray();
            Check.AssertClose(xr, [1, Hidden], [Hidden], w, RmsNormOptions.DefaultEpsilon, 1, yr, $"streamed row {row} of {rows}");
        }

        // Nothing left poisoned anywhere: every output is x / rms · w, far below the poison for this data.
        float poison = (float)TestData.PoisonIn<float>();
        Assert.DoesNotContain(y, v => v == poison || float.IsNaN(v));
    }
}
