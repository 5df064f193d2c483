using System.Runtime.InteropServices;
using IlgpuNorm.Host;
using IlgpuNorm.Kernels;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// The host's in-register float16/bfloat16 path against the kernels' scalar <see cref="HalfBits"/> conversions (which
/// <see cref="ConversionTests"/> checks against .NET's) and against the buffered widen-then-sum path, bit for bit.
/// </summary>
public class HostSixteenBitTests
{
    [Fact]
    public void Float16_WidenAndRound_MatchHalfBits_OnEveryEncodingAndEveryTie()
    {
        var all = new ushort[65536 + 5];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = (ushort)i;
        }

        var widened = new float[all.Length];
        HostStorage.Widen<ushort, float, Float16Storage>(all, widened);
        for (int i = 0; i < all.Length; i++)
        {
            float expected = HalfBits.HalfToSingle(all[i]);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(widened[i]), $"0x{all[i]:X4}: expected {expected:R}, got {widened[i]:R}");
        }

        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 5.96e-8f, 2.98e-8f, 2.99e-8f, float.Epsilon, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, -float.NaN };
        var random = new Random(5);
        for (int i = 0; i < 100_000; i++)
        {
            values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        }

        for (int bits = 0; bits < 0x7C00; bits++)
        {
            float h = HalfBits.HalfToSingle((ushort)bits);
            float mid = (h + HalfBits.HalfToSingle((ushort)(bits + 1))) / 2;
            values.AddRange([mid, MathF.BitIncrement(mid), MathF.BitDecrement(mid), -mid]);
        }

        var source = values.ToArray();
        var rounded = new ushort[source.Length];
        HostStorage.Narrow<ushort, float, Float16Storage>(source, rounded);
        for (int i = 0; i < source.Length; i++)
        {
            ushort expected = HalfBits.SingleToHalf(source[i]);
            Assert.True(expected == rounded[i], $"{source[i]:R} (0x{BitConverter.SingleToUInt32Bits(source[i]):X8}): expected 0x{expected:X4}, got 0x{rounded[i]:X4}");
        }

        // Rounding to float16 precision in float32 (the weighted path's first rounding) is Widen(Round(x)), bit for bit
        // (NaN: any NaN of the same sign, as the next rounding to bits makes them all 0x7E00 with that sign).
        AssertQuantizeIsWidenOfRound(source, HostRowsHelper.Quantize<Float16Storage>, b => HalfBits.HalfToSingle(HalfBits.SingleToHalf(b)));
    }

    /// <summary>Every one of the 2^32 float32 patterns rounded to float16 bits by both storages (the finite one on
    /// every non-NaN) against the scalar <see cref="HalfBits.SingleToHalf"/>: ~15 s on two cores.</summary>
    [Fact]
    public void Float16_Round_EqualsHalfBits_OnEveryFloat32()
    {
        long mismatches = 0;
        string first = string.Empty;
        Parallel.For(0, 4096, chunk =>
        {
            var source = new float[1 << 20];
            var finite = new ushort[source.Length];
            var full = new ushort[source.Length];
            for (int i = 0; i < source.Length; i++)
            {
                source[i] = BitConverter.UInt32BitsToSingle(((uint)chunk << 20) | (uint)i);
            }

            HostStorage.Narrow<ushort, float, FiniteFloat16Storage>(source, finite);
            HostStorage.Narrow<ushort, float, Float16Storage>(source, full);
            var magnitude = new ushort[source.Length];
            var evenOdd = new ushort[source.Length];
            bool positive = chunk < 2048; // the sign bit clear: the magnitudes' bits too (element order and even/odd blocks)
            if (positive)
            {
                HostRowsHelper.MagnitudeBits<FiniteFloat16Storage>(source, magnitude);
                HostRowsHelper.MagnitudeBitsEvenOdd<FiniteFloat16Storage>(source, evenOdd);
            }

            for (int i = 0; i < source.Length; i++)
            {
                ushort expected = HalfBits.SingleToHalf(source[i]);
                bool number = !float.IsNaN(source[i]);
                if ((number && finite[i] != expected) || full[i] != expected || (positive && number && (magnitude[i] != expected || evenOdd[i] != expected)))
                {
                    if (Interlocked.Increment(ref mismatches) == 1)
                    {
                        first = $"0x{BitConverter.SingleToUInt32Bits(source[i]):X8}: expected 0x{expected:X4}, finite 0x{finite[i]:X4}, full 0x{full[i]:X4}, magnitude 0x{magnitude[i]:X4}, even/odd 0x{evenOdd[i]:X4}";
                    }
                }
            }
        });
        Assert.True(mismatches == 0, $"{mismatches} mismatches, the first {first}");
    }

    [Fact]
    public void BFloat16_Quantize_IsWidenOfRound_OnRandomAndEdgeValues()
    {
        var random = new Random(8);
        var values = new List<float> { 0f, -0f, float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon };
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            values.Add(BitConverter.UInt32BitsToSingle(bits));
            values.Add(BitConverter.UInt32BitsToSingle((bits & 0xFFFF_0000u) | 0x8000u)); // a tie
        }

        AssertQuantizeIsWidenOfRound(values.ToArray(), HostRowsHelper.Quantize<BFloat16Storage>, b => BFloat16.BitsToSingle(BFloat16.RoundToBits(b)));
    }

    private static void AssertQuantizeIsWidenOfRound(float[] source, SpanAction quantize, Func<float, float> reference)
    {
        var quantized = new float[source.Length];
        quantize(source, quantized);
        for (int i = 0; i < source.Length; i++)
        {
            float expected = reference(source[i]);
            bool same = float.IsNaN(expected)
                ? float.IsNaN(quantized[i]) && float.IsNegative(expected) == float.IsNegative(quantized[i])
                : BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(quantized[i]);
            Assert.True(same, $"{source[i]:R} (0x{BitConverter.SingleToUInt32Bits(source[i]):X8}): expected {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8}), got {quantized[i]:R} (0x{BitConverter.SingleToUInt32Bits(quantized[i]):X8})");
        }
    }

    /// <summary>The 16-bit stores of <typeparamref name="SFinite"/> equal <typeparamref name="S"/>'s on every value.</summary>
    private static void AssertSameStores<S, SFinite>(float[] source)
        where S : IStorage<ushort, float>
        where SFinite : IStorage<ushort, float>
    {
        var expected = new ushort[source.Length];
        var actual = new ushort[source.Length];
        HostStorage.Narrow<ushort, float, S>(source, expected);
        HostStorage.Narrow<ushort, float, SFinite>(source, actual);
        Assert.Equal(expected, actual);
    }

    private delegate void SpanAction(ReadOnlySpan<float> source, Span<float> destination);

    public static TheoryData<bool, int> Rows() => new()
    {
        { false, 1 }, { true, 1 }, { false, 15 }, { true, 16 }, { false, 31 }, { true, 33 }, { false, 64 }, { true, 127 }, { false, 4096 }, { true, 8193 },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void FusedRows_EqualTheBufferedPath_BitForBit(bool bfloat16, int n)
    {
        var random = new Random(n * 7 + (bfloat16 ? 1 : 0));
        var x = new ushort[n];
        var wBits = new ushort[n];
        for (int i = 0; i < n; i++)
        {
            float v = (float)(random.NextDouble() * 8 - 4);
            float w = (float)(random.NextDouble() * 3 - 1.5);
            x[i] = bfloat16 ? BFloat16.RoundToBits(v) : HalfBits.SingleToHalf(v);
            wBits[i] = bfloat16 ? BFloat16.RoundToBits(w) : HalfBits.SingleToHalf(w);
        }

        if (n > 3)
        {
            x[n / 2] = bfloat16 ? BFloat16.RoundToBits(float.NaN) : HalfBits.SingleToHalf(1e-7f); // a NaN, or a subnormal
        }

        float Widen(ushort b) => bfloat16 ? BFloat16.BitsToSingle(b) : HalfBits.HalfToSingle(b);
        ushort Round(float f) => bfloat16 ? BFloat16.RoundToBits(f) : HalfBits.SingleToHalf(f);
        var wide = x.Select(Widen).ToArray();
        var weight = wBits.Select(Widen).ToArray();

        float expectedSum = HostRows.SumOfSquares(wide);
        float sum = bfloat16 ? HostRowsHelper.SumOfSquares<BFloat16Storage>(x) : HostRowsHelper.SumOfSquares<Float16Storage>(x);
        Assert.Equal(BitConverter.SingleToUInt32Bits(expectedSum), BitConverter.SingleToUInt32Bits(sum));

        float d = MathF.Sqrt(expectedSum / n + 1e-6f);
        foreach (bool withWeight in new[] { false, true })
        {
            var y = Enumerable.Repeat((ushort)0x7E01, n).ToArray(); // poisoned
            var w = withWeight ? weight : [];
            if (bfloat16)
            {
                HostRowsHelper.Normalize<ushort, float, BFloat16Storage>(x, d, w, y);
            }
            else
            {
                HostRowsHelper.Normalize<ushort, float, Float16Storage>(x, d, w, y);
            }

            for (int i = 0; i < n; i++)
            {
                ushort expected = Round(wide[i] / d);
                if (withWeight)
                {
                    expected = Round(Widen(expected) * weight[i]);
                }

                Assert.True(expected == y[i], $"n={n} weight={withWeight} [{i}]: expected 0x{expected:X4}, got 0x{y[i]:X4}");
            }
        }
    }

    public static TheoryData<int> SumLengths() => new() { 1, 15, 16, 17, 31, 32, 33, 47, 64, 4096, 4099 };

    /// <summary>
    /// The float16 Σ x² reads magnitudes (<see cref="HalfMagnitudeLoad"/>) and sums a row again with the full widening when
    /// the sum is NaN or ≥ 2^32. Every special and large value at every position class (vector step, single step, scalar
    /// tail), both signs, quiet and signaling NaN, subnormals, and rows whose finite sum crosses 2^32: the same bits as
    /// the float64 sum of the exactly widened row.
    /// </summary>
    [Theory]
    [MemberData(nameof(SumLengths))]
    public void Float16_SumOfSquares_EqualsTheWidenedSum_WithSpecialsAnywhere(int n)
    {
        var random = new Random(n + 31);
        ushort[] specials = [0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0xFD55, 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x0400, 0x8000];
        var positions = new[] { 0, n / 2, n - 1, Math.Max(0, n - 9), Math.Max(0, n - 17) }.Distinct();
        foreach (ushort special in specials)
        {
            foreach (int position in positions)
            {
                var x = new ushort[n];
                for (int i = 0; i < n; i++)
                {
                    x[i] = HalfBits.SingleToHalf((float)(random.NextDouble() * 8 - 4));
                }

                x[position] = special;
                AssertSum(x);
            }
        }

        // Finite rows around the 2^32 mark: all 256 (sum 2^32 · n / 256), all 65504, and one 65504 among small values.
        foreach (ushort big in new ushort[] { 0x5C00, 0x7BFF, 0xFBFF })
        {
            AssertSum(Enumerable.Repeat(big, n).ToArray());
            var x = Enumerable.Range(0, n).Select(_ => HalfBits.SingleToHalf((float)random.NextDouble())).ToArray();
            x[n / 3] = big;
            AssertSum(x);
        }

        static void AssertSum(ushort[] x)
        {
            float expected = HostRows.SumOfSquares(x.Select(HalfBits.HalfToSingle).ToArray());
            float actual = HostRowsHelper.SumOfSquares<Float16Storage>(x);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)),
                $"n={x.Length}: expected {expected} (0x{BitConverter.SingleToUInt32Bits(expected):X8}), got {actual} (0x{BitConverter.SingleToUInt32Bits(actual):X8})");
        }
    }

    /// <summary>
    /// The row reduction of a 16-bit row (bfloat16 widened in halves, float16 magnitudes) equals that of the same row
    /// widened to float32 first, bit for bit, on rows that show each value's accumulator lane: 4096 and 1 (squares
    /// 2^24 + 1, a float32 midpoint) and three 2^-15 in one lane of consecutive steps, whose squares tip the rounding only
    /// when they meet before the large ones; the large one in that lane before or after them, or anywhere. Fails when a
    /// value meets other values in its lane than it does in the float32 row's reduction (both widths).
    /// </summary>
    [Theory]
    [InlineData(false, 64)]
    [InlineData(false, 4096)]
    [InlineData(false, 4099)]
    [InlineData(true, 64)]
    [InlineData(true, 4096)]
    [InlineData(true, 4099)]
    public void SixteenBit_RowSumOfSquares_EqualsTheWidenedRowsSum_LaneForLane(bool bfloat16, int n)
    {
        var random = new Random(n + (bfloat16 ? 11 : 0));
        ushort Bits(double v) => bfloat16 ? BFloat16.RoundToBits((float)v) : HalfBits.SingleToHalf((float)v);
        float Value(ushort bits) => bfloat16 ? BitConverter.UInt32BitsToSingle((uint)bits << 16) : HalfBits.HalfToSingle(bits);
        int distinct = 0;
        var seen = new HashSet<float>();
        for (int trial = 0; trial < 256; trial++)
        {
            int step = 8 * (1 + random.Next(2)), lane = random.Next(step), first = random.Next((n / step) - 2);
            var (x, big) = LaneRow(random, n, step, lane, first, bigInLane: trial % 2 == 0, Bits);
            float expected = HostRows.SumOfSquares(x.Select(Value).ToArray());
            float actual = bfloat16 ? HostRowsHelper.SumOfSquares<BFloat16Storage>(x) : HostRowsHelper.SumOfSquares<Float16Storage>(x);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                $"trial {trial}, lane {lane} of {step}, steps {first}-{first + 2}, large at {big}: expected {expected:R}, got {actual:R}");
            distinct += seen.Add(expected) ? 1 : 0;
        }

        Assert.True(distinct >= 2, "the rows must round both ways, or they show no lane"); // the test's own power
    }

    /// <summary>
    /// A row whose float32 Σ x² shows each value's accumulator lane: three 2^-15 at <paramref name="offset"/> of steps
    /// <paramref name="first"/> to first + 2 of <paramref name="step"/> elements (anywhere when first &lt; 0), 4096 in the same
    /// lane of another step (<paramref name="bigInLane"/>, where there is one) or anywhere, and 1 anywhere else: squares
    /// summing to the float32 midpoint 2^24 + 1 plus three 2^-30, which tip the rounding only when they meet before the
    /// large ones. Returns the row and where 4096 is.
    /// </summary>
    private static (ushort[] Row, int Big) LaneRow(Random random, int n, int step, int offset, int first, bool bigInLane, Func<double, ushort> bits)
    {
        var row = new ushort[n];
        var small = first < 0
            ? Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(3).ToArray()
            : [(first * step) + offset, ((first + 1) * step) + offset, ((first + 2) * step) + offset];
        var rest = Enumerable.Range(0, n).Except(small).OrderBy(_ => random.Next()).ToArray();
        var sameLane = Enumerable.Range(0, n / step).Where(s => first >= 0 && (s < first || s > first + 2)).Select(s => (s * step) + offset).ToArray();
        int big = bigInLane && sameLane.Length > 0 ? sameLane[random.Next(sameLane.Length)] : rest[0]; // in the small values' lane, before or after them, or anywhere
        row[big] = bits(4096);
        row[rest.First(i => i != big)] = bits(1);
        row[small[0]] = row[small[1]] = row[small[2]] = bits(Math.ScaleB(1, -15));
        return (row, big);
    }

    public static TheoryData<bool, int, bool> EvenOddRows() => new()
    {
        { true, 1, false }, { true, 1, true }, { true, 2, true }, { true, 128, false }, { true, 128, true }, { true, 257, true },
        { false, 1, false }, { false, 1, true }, { false, 2, true }, { false, 3, true }, { false, 128, false }, { false, 257, true },
    };

    /// <summary>
    /// Rows mapped in even/odd blocks equal the element-order map bit for bit, ordinary and streaming stores, with and
    /// without a weight: through the full storage (x with NaN, ±Inf, ties, subnormals; a weight with NaN, ±Inf and
    /// overflowing values), through the finite one (finite x and weight), and for float16 on magnitudes with the signs
    /// apart (weights of both signs, products that overflow, subnormal results), against the element-order map of
    /// magnitudes; one, two and three blocks (the loop's first and last block are its edge cases); every element written.
    /// </summary>
    [Theory]
    [MemberData(nameof(EvenOddRows))]
    public unsafe void SixteenBit_EvenOddBlocks_EqualElementOrder_BitForBit(bool bfloat16, int blocks, bool weighted)
    {
        int n = blocks * HostRows.PairBlock;
        var random = new Random(n + (weighted ? 1 : 0) + (bfloat16 ? 2 : 0));
        ushort Bits(double v) => bfloat16 ? BFloat16.RoundToBits((float)v) : HalfBits.SingleToHalf((float)v);
        var x = Enumerable.Range(0, n).Select(_ => Bits((random.NextDouble() * 8) - 4)).ToArray();
        var w = weighted ? Enumerable.Range(0, n).Select(_ => Bits((random.NextDouble() * 3) - 1.5)).ToArray() : [];
        var finiteX = x.ToArray();
        var finiteW = w.ToArray();
        ushort[] specials = bfloat16
            ? [0x7FC0, 0xFF81, 0x7F80, 0xFF80, 0x0001, 0x8001, 0x7F7F, 0x3F81, 0x0000, 0x8000]
            : [0x7E00, 0xFC01, 0x7C00, 0xFC00, 0x0001, 0x8001, 0x7BFF, 0x3C01, 0x0000, 0x8000];
        ushort[] weights = bfloat16 ? [0x7FC0, 0x7F80, 0xFF80, 0x7F7F, 0xFF7F, 0x0001] : [0x7E00, 0x7C00, 0xFC00, 0x7BFF, 0xFBFF, 0x0001];
        for (int k = 0; k < specials.Length && k < n; k++)
        {
            x[(k * 7) % n] = specials[k];
            if (weighted && k < weights.Length)
            {
                w[(k * 11 + 3) % n] = weights[k];
            }
        }

        for (int k = 0; !bfloat16 && k < 6 && k < n; k++)
        {
            // Finite float16 edges: subnormals, zeros and ±32768 in x, products past 65504 and below 2^-24. |x / d| stays
            // under 65504 at d = 0.7, the finite storage's domain (a row's own d guarantees it; past it, its vector rounding
            // and the scalar one of an unaligned streaming row's first elements need not agree).
            finiteX[(k * 5 + 1) % n] = new ushort[] { 0x0001, 0x83FF, 0x0000, 0x8000, 0x7800, 0xF800 }[k];
            if (weighted)
            {
                finiteW[(k * 13 + 2) % n] = new ushort[] { 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x0000, 0x8000 }[k];
            }
        }

        var y = (ushort*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)n * 2, 64);
        try
        {
            var target = new Span<ushort>(y, n);
            foreach (bool streaming in new[] { false, true })
            {
                if (bfloat16)
                {
                    Check<BFloat16Storage>(x, w, 1.3f, streaming, target);
                    Check<FiniteBFloat16Storage>(finiteX, finiteW, 0.7f, streaming, target);
                }
                else
                {
                    Check<Float16Storage>(x, w, 1.3f, streaming, target);
                    Check<FiniteFloat16Storage>(finiteX, finiteW, 0.7f, streaming, target);
                    CheckSignApart(finiteX, finiteW, 0.7f, streaming, target);
                    CheckSignApart(finiteX, finiteW, MathF.ScaleB(1f, -14), streaming, target); // the smallest d on magnitudes
                }
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(y);
        }

        static void Check<S>(ushort[] x, ushort[] w, float d, bool streaming, Span<ushort> y)
            where S : IStorage<ushort, float>
        {
            var expected = Enumerable.Repeat((ushort)0x5A5A, x.Length).ToArray();
            var wide = new float[w.Length];
            HostStorage.Widen<ushort, float, S>(w, wide);
            HostRowsHelper.Normalize<ushort, float, S>(x, d, wide, expected, streaming);
            y.Fill(0x5A5A);
            HostRowsHelper.NormalizeEvenOdd<S>(x, d, w, y, streaming);
            AssertEqual(typeof(S).Name, expected, y, streaming);
        }

        static void CheckSignApart(ushort[] x, ushort[] w, float d, bool streaming, Span<ushort> y)
        {
            var expected = Enumerable.Repeat((ushort)0x5A5A, x.Length).ToArray();
            var wide = new float[w.Length];
            HostStorage.Widen<ushort, float, FiniteFloat16Storage>(w, wide);
            HostRowsHelper.NormalizeSignApart<FiniteFloat16Storage>(x, d, wide, w, expected, streaming);
            y.Fill(0x5A5A);
            HostRowsHelper.NormalizeEvenOdd<FiniteFloat16Storage>(x, d, w, y, streaming, signApart: true);
            AssertEqual($"sign apart, d {d:R}", expected, y, streaming);
        }

        static void AssertEqual(string path, ushort[] expected, Span<ushort> y, bool streaming)
        {
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(expected[i] == y[i], $"{path} n={expected.Length} streaming={streaming} [{i}]: expected 0x{expected[i]:X4}, got 0x{y[i]:X4}");
            }
        }
    }

    /// <summary>
    /// A row map from cache sums the squares of the next row in its loop; that sum equals the row reduction's bit for bit
    /// and the map's output is the map's alone. The next rows are random, hold an infinity or a NaN (float16: the sum again
    /// with the full widening), values whose float16 sum passes 2^32, and 4096, 1 and three times 2^-15 at random places:
    /// squares summing to the float32 midpoint 2^24 + 1 plus three 2^-30, which decide the rounding only when they meet
    /// before the large ones, so the result shows which accumulator lane each element went to.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(false, 4)]
    [InlineData(false, 128)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    [InlineData(true, 8)]
    public void SixteenBit_MapSummingTheNextRow_EqualsTheRowReduction_BitForBit(bool bfloat16, int blocks)
    {
        int n = blocks * HostRows.PairBlock;
        var random = new Random(n + (bfloat16 ? 5 : 0));
        ushort Bits(double v) => bfloat16 ? BFloat16.RoundToBits((float)v) : HalfBits.SingleToHalf((float)v);
        var x = Enumerable.Range(0, n).Select(_ => Bits((random.NextDouble() * 8) - 4)).ToArray();
        var w = Enumerable.Range(0, n).Select(_ => Bits((random.NextDouble() * 3) - 1.5)).ToArray();
        var rows = new List<ushort[]> { Enumerable.Range(0, n).Select(_ => Bits((random.NextDouble() * 8) - 4)).ToArray() };
        foreach (ushort special in bfloat16 ? new ushort[] { 0x7F80, 0xFFC0 } : new ushort[] { 0x7C00, 0xFE00, 0x7BFF })
        {
            var row = Enumerable.Range(0, n).Select(_ => Bits(random.NextDouble())).ToArray();
            row[random.Next(n)] = special;
            rows.Add(row);
        }

        int plain = rows.Count;
        for (int trial = 0; trial < 256 && n >= 8; trial++)
        {
            // The small values at one offset of three consecutive blocks where there are three (one accumulator lane,
            // in consecutive steps), else anywhere.
            int block = HostRows.PairBlock, offset = random.Next(block), first = blocks >= 3 ? random.Next(blocks - 2) : -1;
            rows.Add(LaneRow(random, n, block, offset, first, bigInLane: trial % 2 == 0, Bits).Row);
        }

        var expectedY = new ushort[n];
        var y = new ushort[n];
        var rounded = new HashSet<float>();
        for (int r = 0; r < rows.Count; r++)
        {
            var next = rows[r];
            float expected, actual;
            if (bfloat16)
            {
                HostRowsHelper.NormalizeEvenOdd<FiniteBFloat16Storage>(x, 0.7f, w, expectedY, streaming: false);
                expected = HostRowsHelper.SumOfSquares<BFloat16Storage>(next);
                actual = HostRowsHelper.NormalizeEvenOddSummingNext<FiniteBFloat16Storage>(x, 0.7f, w, y, next);
            }
            else
            {
                HostRowsHelper.NormalizeEvenOdd<FiniteFloat16Storage>(x, 0.7f, w, expectedY, streaming: false, signApart: true);
                expected = HostRowsHelper.SumOfSquares<Float16Storage>(next);
                actual = HostRowsHelper.NormalizeEvenOddSummingNext<FiniteFloat16Storage>(x, 0.7f, w, y, next);
            }

            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)),
                $"n={n}: expected Σx² {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8}), got {actual:R} (0x{BitConverter.SingleToUInt32Bits(actual):X8})");
            Assert.Equal(expectedY, y);
            if (r >= plain)
            {
                rounded.Add(expected);
            }
        }

        // Both roundings of the midpoint occur among the placements (the test can tell the lanes apart).
        Assert.True(n < 8 || (rounded.Contains(16777216f) && rounded.Contains(16777218f)), $"n={n}: sums {string.Join(", ", rounded)}");
    }

    /// <summary>
    /// bfloat16 through the public API with num_groups = 2 and segments of whole even/odd blocks (and of none: 48 on
    /// AVX-512): each segment takes its own slice of the weight, in the even/odd layout; every lane against the scalar
    /// roundings of its segment.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(48)]
    [InlineData(4096)]
    public void BFloat16_Groups_EvenOddSegments_RoundEveryLaneAsTheScalarPath(int segment)
    {
        const int Rows = 3;
        const int Groups = 2;
        int n = segment * Groups;
        var random = new Random(segment);
        var x = Enumerable.Range(0, Rows * n).Select(_ => BFloat16.RoundToBits((float)((random.NextDouble() * 8) - 4))).ToArray();
        var w = Enumerable.Range(0, n).Select(_ => BFloat16.RoundToBits((float)((random.NextDouble() * 3) - 1.5))).ToArray();
        var y = Enumerable.Repeat((ushort)0x7E01, x.Length).ToArray(); // poisoned
        var options = new RmsNormOptions { Device = DeviceRequest.Host, NumGroups = Groups };
        RmsNorm.Compute<BFloat16>(MemoryMarshal.Cast<ushort, BFloat16>(x), [Rows, n], [n], MemoryMarshal.Cast<ushort, BFloat16>(w), MemoryMarshal.Cast<ushort, BFloat16>(y.AsSpan()), options);
        for (int s = 0; s < Rows * Groups; s++)
        {
            var wide = x.AsSpan(s * segment, segment).ToArray().Select(BFloat16.BitsToSingle).ToArray();
            float d = MathF.Sqrt((HostRows.SumOfSquares(wide) / segment) + 1e-6f);
            for (int i = 0; i < segment; i++)
            {
                float weight = BFloat16.BitsToSingle(w[((s % Groups) * segment) + i]);
                ushort expected = BFloat16.RoundToBits(BFloat16.BitsToSingle(BFloat16.RoundToBits(wide[i] / d)) * weight);
                Assert.True(expected == y[(s * segment) + i], $"segment {s} [{i}]: expected 0x{expected:X4}, got 0x{y[(s * segment) + i]:X4}");
            }
        }
    }

    /// <summary>
    /// Through the public API, a bfloat16 call larger than the last-level cache into a 64-byte aligned output (even/odd
    /// blocks with streaming stores) and into the same output one element further on (element order: no aligned block):
    /// the same bits.
    /// </summary>
    [Fact]
    public unsafe void BFloat16_LargeCall_AlignedAndUnalignedOutputs_AgreeBitForBit()
    {
        const int Hidden = 4096;
        int rows = (int)(HostCache.LastLevelBytes / (2 * 2 * Hidden)) + 3;
        int count = rows * Hidden;
        Assert.True(HostCache.ShouldStream((long)count * 2 * 2));
        var random = new Random(5);
        var x = Enumerable.Range(0, count).Select(_ => (BFloat16)(float)((random.NextDouble() * 4) - 2)).ToArray();
        var w = Enumerable.Range(0, Hidden).Select(_ => (BFloat16)(float)(random.NextDouble() + 0.5)).ToArray();
        x[Hidden + 5] = BFloat16.NaN; // a row through the full storage
        var buffer = (ushort*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(count + 1) * 2, 64);
        try
        {
            var options = new RmsNormOptions { Device = DeviceRequest.Host };
            var aligned = new Span<BFloat16>(buffer, count);
            aligned.Fill((BFloat16)12345f);
            RmsNorm.Compute<BFloat16>(x, [rows, Hidden], [Hidden], w, aligned, options);
            var first = aligned.ToArray();
            var shifted = new Span<BFloat16>(buffer + 1, count);
            shifted.Fill((BFloat16)12345f);
            RmsNorm.Compute<BFloat16>(x, [rows, Hidden], [Hidden], w, shifted, options);
            Assert.True(first.AsSpan().SequenceEqual(shifted), "aligned and shifted outputs differ");
            Assert.DoesNotContain(first, v => v.Equals((BFloat16)12345f));
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }

    [Fact]
    public void FiniteBFloat16_RoundsEveryNonNaNAsBFloat16()
    {
        var random = new Random(12);
        var values = new List<float> { 0f, -0f, float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, 3.3961e38f, -3.3961e38f };
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            bits = (bits & 0x7F80_0000u) == 0x7F80_0000u ? bits & 0xBFFF_FFFFu : bits; // no NaN: the storage's premise
            values.Add(BitConverter.UInt32BitsToSingle(bits));
            values.Add(BitConverter.UInt32BitsToSingle((bits & 0xFFFF_0000u) | 0x8000u)); // a tie
        }

        var source = values.ToArray();
        AssertSameStores<BFloat16Storage, FiniteBFloat16Storage>(source);
        AssertQuantizeIsWidenOfRound(source, HostRowsHelper.Quantize<FiniteBFloat16Storage>, b => BFloat16.BitsToSingle(BFloat16.RoundToBits(b)));
    }

    [Fact]
    public void FiniteFloat16_LoadsAndRoundsAsFloat16_OnItsDomain()
    {
        // Loads: every finite encoding. Stores: every non-NaN float32. The first rounding: |v| < 65504, with every tie.
        var finite = Enumerable.Range(0, 65536).Where(b => (b & 0x7C00) != 0x7C00).Select(b => (ushort)b).ToArray();
        var expectedWide = new float[finite.Length];
        var actualWide = new float[finite.Length];
        HostStorage.Widen<ushort, float, Float16Storage>(finite, expectedWide);
        HostStorage.Widen<ushort, float, FiniteFloat16Storage>(finite, actualWide);
        Assert.Equal(expectedWide.Select(BitConverter.SingleToUInt32Bits), actualWide.Select(BitConverter.SingleToUInt32Bits));

        var random = new Random(13);
        var values = new List<float> { 0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 65536f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, 5.96e-8f, 2.98e-8f, float.Epsilon };
        var inRange = new List<float>();
        for (int i = 0; i < 100_000; i++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            bits = (bits & 0x7F80_0000u) == 0x7F80_0000u ? bits & 0xBFFF_FFFFu : bits; // no NaN
            values.Add(BitConverter.UInt32BitsToSingle(bits));
            inRange.Add((float)((random.NextDouble() * 2 - 1) * Math.ScaleB(1, random.Next(-30, 16))));
        }

        for (int bits = 0; bits < 0x7BFF; bits++)
        {
            float h = HalfBits.HalfToSingle((ushort)bits);
            float mid = (h + HalfBits.HalfToSingle((ushort)(bits + 1))) / 2;
            values.AddRange([mid, MathF.BitIncrement(mid), MathF.BitDecrement(mid), -mid]);
            inRange.AddRange([mid, MathF.BitIncrement(mid), MathF.BitDecrement(mid), -mid]);
        }

        var source = values.ToArray();
        AssertSameStores<Float16Storage, FiniteFloat16Storage>(source);
        AssertQuantizeIsWidenOfRound(inRange.ToArray(), HostRowsHelper.Quantize<FiniteFloat16Storage>, b => HalfBits.HalfToSingle(HalfBits.SingleToHalf(b)));

        // The magnitude members (sign apart): |x| · 2^-112 of every finite encoding (exact: subnormals land on float32's
        // subnormal grid); the first rounding of every |v| above, 2^16 and past it included (65504 rounds down, 65520 up to 2^16).
        var magnitudes = new float[finite.Length];
        HostRowsHelper.Magnitude<FiniteFloat16Storage>(finite, magnitudes);
        Assert.Equal(MathF.ScaleB(1f, -112), FiniteFloat16Storage.MagnitudeScale);
        Assert.Equal(expectedWide.Select(v => BitConverter.SingleToUInt32Bits(MathF.ScaleB(MathF.Abs(v), -112))), magnitudes.Select(BitConverter.SingleToUInt32Bits));
        var positive = inRange.Select(MathF.Abs).Concat([0f, 65504f, 65519.99f, 65520f, 65536f, 70000f, 1e9f]).ToList();
        while (positive.Count % 16 != 0)
        {
            positive.Add(1f);
        }

        var rounded = positive.ToArray();
        HostRowsHelper.QuantizeMagnitude<FiniteFloat16Storage>(rounded);
        for (int i = 0; i < rounded.Length; i++)
        {
            float expected = MathF.Min(HalfBits.HalfToSingle(HalfBits.SingleToHalf(positive[i])), 65536f) is var e && float.IsInfinity(e) ? 65536f : e;
            bool overflow = positive[i] >= 65520f; // float16 says Inf, the magnitude rounding 2^16 or the value's own rounding
            Assert.True(overflow ? rounded[i] >= 65536f : BitConverter.SingleToUInt32Bits(rounded[i]) == BitConverter.SingleToUInt32Bits(expected), $"{positive[i]:R}: expected {expected:R}, got {rounded[i]:R}");
        }
    }

    public static TheoryData<int, bool, bool> SignApartRows() => new()
    {
        { 1, true, false }, { 15, true, false }, { 16, false, false }, { 17, true, false }, { 33, true, true }, { 127, false, true }, { 4099, true, false }, { 4099, true, true }, { 4096, false, true },
    };

    /// <summary>
    /// float16 rows on magnitudes with the signs apart (<see cref="HostRows.MapSignApart"/>) against the signed row map
    /// and against the scalar roundings, bit for bit: x and w of both signs, ±0, subnormal x and weights (subnormal and
    /// zero results of both signs), weights whose products overflow to ±infinity; with the traffic of a call from memory (prefetch) and without.
    /// </summary>
    [Theory]
    [MemberData(nameof(SignApartRows))]
    public unsafe void Float16_SignApartRows_EqualTheSignedMap_AndTheScalarRoundings(int n, bool weighted, bool streaming)
    {
        var random = new Random(n * 4 + (weighted ? 2 : 0) + (streaming ? 1 : 0));
        ushort[] specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400, 0x8400, 0x7BFF, 0xFBFF];
        var x = new ushort[n];
        var wBits = new ushort[weighted ? n : 0];
        for (int i = 0; i < n; i++)
        {
            x[i] = i % 7 == 3 ? specials[random.Next(specials.Length)] : HalfBits.SingleToHalf((float)((random.NextDouble() * 8) - 4));
        }

        for (int i = 0; i < wBits.Length; i++)
        {
            wBits[i] = (i % 5) switch
            {
                1 => specials[random.Next(specials.Length)],
                2 => HalfBits.SingleToHalf((float)((random.NextDouble() - 0.5) * 1e-3)), // subnormal and tiny results
                _ => HalfBits.SingleToHalf((float)((random.NextDouble() * 3) - 1.5)),
            };
        }

        var w = wBits.Select(HalfBits.HalfToSingle).ToArray();
        var wide = x.Select(HalfBits.HalfToSingle).ToArray();
        float d = MathF.Sqrt((HostRows.SumOfSquares(wide) / n) + 1e-6f);
        // Odd rows: |x / d| up to ~4e4, so products overflow; n = 15 and 33: the smallest d the map takes (d · 2^-112 the
        // smallest float32 normal), which subnormal x (subnormal magnitudes) divide.
        d = n % 3 == 0 ? MathF.ScaleB(1f, -14) : n % 2 == 0 ? d : d * 1e-4f;
        var signed = new ushort[n];
        HostRowsHelper.Normalize<ushort, float, FiniteFloat16Storage>(x, d, w, signed);
        var buffer = (ushort*)NativeMemory.AlignedAlloc((nuint)n * 2, 64);
        try
        {
            var apart = new Span<ushort>(buffer, n);
            apart.Fill(0x7E01); // poisoned
            HostRowsHelper.NormalizeSignApart<FiniteFloat16Storage>(x, d, w, wBits, apart, streaming);
            for (int i = 0; i < n; i++)
            {
                ushort q = HalfBits.SingleToHalf(wide[i] / d);
                ushort expected = weighted ? HalfBits.SingleToHalf(HalfBits.HalfToSingle(q) * w[i]) : q;
                Assert.True(expected == signed[i] && expected == apart[i], $"[{i}] x 0x{x[i]:X4}{(weighted ? $", w 0x{wBits[i]:X4}" : string.Empty)}: expected 0x{expected:X4}, signed map 0x{signed[i]:X4}, sign apart 0x{apart[i]:X4}");
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>
    /// Through the public API, a float16 call larger than the last-level cache (finite rows on magnitudes, from memory)
    /// with weights of both signs and ±0, into a 64-byte aligned output and one element further on: every lane against
    /// the scalar roundings, both outputs.
    /// </summary>
    [Fact]
    public unsafe void Float16_LargeCall_SignedWeights_RoundEveryLaneAsTheScalarPath()
    {
        const int Hidden = 4096;
        int rows = (int)(HostCache.LastLevelBytes / (2 * 2 * Hidden)) + 3;
        int count = rows * Hidden;
        Assert.True(HostCache.ShouldStream((long)count * 2 * 2));
        var random = new Random(6);
        var x = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = HalfBits.SingleToHalf((float)((random.NextDouble() * 4) - 2));
        }

        x[Hidden + 5] = 0x7E00; // a NaN row: the signed storage
        var w = Enumerable.Range(0, Hidden).Select(i => HalfBits.SingleToHalf(i % 9 == 0 ? (i % 2 == 0 ? 0f : -0f) : (float)((random.NextDouble() * 3) - 1.5))).ToArray();
        var buffer = (ushort*)NativeMemory.AlignedAlloc((nuint)(count + 1) * 2, 64);
        try
        {
            var options = new RmsNormOptions { Device = DeviceRequest.Host };
            foreach (int offset in new[] { 0, 1 })
            {
                var y = new Span<ushort>(buffer + offset, count);
                y.Fill(0x7E01); // poisoned
                RmsNorm.Compute<Half>(MemoryMarshal.Cast<ushort, Half>(x), [rows, Hidden], [Hidden], MemoryMarshal.Cast<ushort, Half>(w), MemoryMarshal.Cast<ushort, Half>(y), options);
                var wide = new float[Hidden];
                for (int r = 0; r < rows; r++)
                {
                    for (int i = 0; i < Hidden; i++)
                    {
                        wide[i] = HalfBits.HalfToSingle(x[(r * Hidden) + i]);
                    }

                    float d = MathF.Sqrt((HostRows.SumOfSquares(wide) / Hidden) + 1e-6f);
                    for (int i = 0; i < Hidden; i++)
                    {
                        ushort expected = HalfBits.SingleToHalf(HalfBits.HalfToSingle(HalfBits.SingleToHalf(wide[i] / d)) * HalfBits.HalfToSingle(w[i]));
                        ushort actual = y[(r * Hidden) + i];
                        if (expected != actual)
                        {
                            Assert.Fail($"offset {offset}, row {r} [{i}]: expected 0x{expected:X4}, got 0x{actual:X4}");
                        }
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>
    /// Rows on magnitudes divide |x| · 2^-112 by d · 2^-112, the same quotient while d · 2^-112 is a float32 normal
    /// (d ≥ 2^-14); rows of smaller d take the signed map. Through the public API, rows whose d runs from 2^-20 to 2^-9
    /// (subnormal float16 x in most of them, a tiny epsilon), weights of both signs: every lane against the scalar roundings.
    /// </summary>
    [Theory]
    [InlineData(4099)] // element order
    [InlineData(4096)] // even/odd blocks
    public void Float16_RowsAroundTheSmallestMagnitudeDivisor_RoundEveryLaneAsTheScalarPath(int hidden)
    {
        const int Rows = 24;
        var random = new Random(17);
        var x = new ushort[Rows * hidden];
        for (int r = 0; r < Rows; r++)
        {
            double scale = Math.ScaleB(1, -20 + (r / 2)); // two rows per power of two: d ≈ 2^-20 ... 2^-9
            for (int i = 0; i < hidden; i++)
            {
                x[(r * hidden) + i] = HalfBits.SingleToHalf((float)(((random.NextDouble() * 2) - 1) * scale * (r % 2 == 0 ? 1 : 1.7)));
            }
        }

        var w = Enumerable.Range(0, hidden).Select(_ => HalfBits.SingleToHalf((float)((random.NextDouble() * 3) - 1.5))).ToArray();
        var y = new ushort[x.Length];
        y.AsSpan().Fill(0x7E01); // poisoned
        var options = new RmsNormOptions { Device = DeviceRequest.Host, Epsilon = 1e-20 };
        RmsNorm.Compute<Half>(MemoryMarshal.Cast<ushort, Half>(x.AsSpan()), [Rows, hidden], [hidden], MemoryMarshal.Cast<ushort, Half>(w.AsSpan()), MemoryMarshal.Cast<ushort, Half>(y.AsSpan()), options);
        var wide = new float[hidden];
        int below = 0;
        for (int r = 0; r < Rows; r++)
        {
            for (int i = 0; i < hidden; i++)
            {
                wide[i] = HalfBits.HalfToSingle(x[(r * hidden) + i]);
            }

            float d = MathF.Sqrt((HostRows.SumOfSquares(wide) / hidden) + 1e-20f);
            below += d < MathF.ScaleB(1f, -14) ? 1 : 0;
            for (int i = 0; i < hidden; i++)
            {
                ushort expected = HalfBits.SingleToHalf(HalfBits.HalfToSingle(HalfBits.SingleToHalf(wide[i] / d)) * HalfBits.HalfToSingle(w[i]));
                ushort actual = y[(r * hidden) + i];
                if (expected != actual)
                {
                    Assert.Fail($"row {r} (d {d:R}) [{i}]: x 0x{x[(r * hidden) + i]:X4}, w 0x{w[i]:X4}: expected 0x{expected:X4}, got 0x{actual:X4}");
                }
            }
        }

        Assert.InRange(below, 6, Rows - 6); // both sides of the limit
    }

    public static TheoryData<bool, int> ForwardRows() => new() { { true, 64 }, { true, 4099 }, { false, 64 }, { false, 4099 } };

    /// <summary>
    /// The forward through the public API, every lane against the scalar roundings: rows with an infinity (a NaN lane),
    /// weights with a NaN, with infinities, with a value whose product overflows. bfloat16 maps rows that cannot hold a
    /// NaN through <see cref="FiniteBFloat16Storage"/>, so this is where a wrong choice of row would show.
    /// </summary>
    [Theory]
    [MemberData(nameof(ForwardRows))]
    public void Forward_WithSpecialWeights_AndInfiniteRows_RoundsEveryLaneAsTheScalarPath(bool bfloat16, int n)
    {
        float Widen(ushort b) => bfloat16 ? BFloat16.BitsToSingle(b) : HalfBits.HalfToSingle(b);
        ushort Round(float f) => bfloat16 ? BFloat16.RoundToBits(f) : HalfBits.SingleToHalf(f);
        const int Rows = 4;
        var random = new Random(n + (bfloat16 ? 100 : 0));
        var x = new ushort[Rows * n];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = Round((float)(random.NextDouble() * 8 - 4));
        }

        x[n + (n / 3)] = Round(float.PositiveInfinity); // row 1: an infinity (its d is infinite: Inf / Inf is NaN)
        x[(3 * n) - 1] = Round(float.NegativeInfinity); // row 3
        float big = bfloat16 ? 3e38f : 60000f;
        var cases = new (string Name, Action<float[]> Edit)[]
        {
            ("finite", _ => { }),
            ("NaN", w => w[n / 2] = float.NaN),
            ("infinite", w => { w[1] = float.PositiveInfinity; w[2] = float.NegativeInfinity; }),
            ("overflowing", w => { w[0] = big; w[n - 1] = -big; }),
        };
        foreach (var (name, edit) in cases)
        {
            var weight = new float[n];
            for (int i = 0; i < n; i++)
            {
                weight[i] = (float)(random.NextDouble() * 3 - 1.5);
            }

            edit(weight);
            var wBits = weight.Select(Round).ToArray();
            var y = Enumerable.Repeat((ushort)0x7E01, x.Length).ToArray(); // poisoned
            var options = new RmsNormOptions { Device = DeviceRequest.Host };
            if (bfloat16)
            {
                RmsNorm.Compute<BFloat16>(MemoryMarshal.Cast<ushort, BFloat16>(x), [Rows, n], [n], MemoryMarshal.Cast<ushort, BFloat16>(wBits), MemoryMarshal.Cast<ushort, BFloat16>(y.AsSpan()), options);
            }
            else
            {
                RmsNorm.Compute<Half>(MemoryMarshal.Cast<ushort, Half>(x), [Rows, n], [n], MemoryMarshal.Cast<ushort, Half>(wBits), MemoryMarshal.Cast<ushort, Half>(y.AsSpan()), options);
            }

            for (int r = 0; r < Rows; r++)
            {
                var wide = x.AsSpan(r * n, n).ToArray().Select(Widen).ToArray();
                float d = MathF.Sqrt((HostRows.SumOfSquares(wide) / n) + 1e-6f);
                for (int i = 0; i < n; i++)
                {
                    ushort expected = Round(Widen(Round(wide[i] / d)) * Widen(wBits[i]));
                    Assert.True(expected == y[(r * n) + i], $"{name} weight, row {r} [{i}]: expected 0x{expected:X4}, got 0x{y[(r * n) + i]:X4}");
                }
            }
        }
    }
}
