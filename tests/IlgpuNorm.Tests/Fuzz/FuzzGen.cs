using CsCheck;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// CsCheck generators for rms_norm calls: rank 1–5 split at random into batch and normalized dims, num_groups among the
/// divisors, eps including 0, weight on or off, values with NaN, ±Inf, ±0, subnormals (of every dtype), huge and tiny
/// magnitudes and all-zero rows. CsCheck shrinks a failing case and prints it with the seed that replays it.
/// </summary>
internal static class FuzzGen
{
    private static readonly double[] Specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0];

    // Subnormals of float64, float32, bfloat16 and float16, and values just above or below their smallest normals.
    private static readonly double[] Tiny = [double.Epsilon, 1e-310, 2.2250738585072014e-308, 1.401298464324817e-45, 1e-40, 1.1754943508222875e-38, 9.2e-41, 5.960464477539063e-08, 3e-6, 6.103515625e-05, 1e-20];

    // Above float16's range, near float32's and bfloat16's, and where x² overflows float32 (|x| ≳ 1.8e19) or float64.
    private static readonly double[] Huge = [65504, 7e4, 1e6, 1.8e19, 2e19, 3.4e38, 3.5e38, 1e154, 1.4e154, 1.7e308];

    private static readonly double[] Scales = [1, 1, 1, 1, 1e-30, 1e-6, 1e6, 1e30];

    private static readonly double[] Epsilons = [0, 0, 1e-6, 1e-6, 1e-5, 1e-3, 0.25, 1e-30, 3];

    /// <summary>A random call with at most <paramref name="maxBatch"/> rows of at most <paramref name="maxNormalized"/> elements.</summary>
    public static Gen<FuzzCase> Case(int maxBatch, int maxNormalized) =>
        from rank in Gen.Int[1, 5]
        from normalizedRank in Gen.Int[1, rank]
        from normalized in Normalized(normalizedRank, maxNormalized)
        from batch in Gen.Frequency((12, Gen.Int[1, 3]), (1, Gen.Const(0))).Array[rank - normalizedRank]
        from groupPick in Gen.Int[0, 1000]
        from epsilon in Gen.OneOf(Epsilons)
        from weighted in Gen.Bool
        from level in Gen.Int[0, 2]
        from scale in Gen.OneOf(Scales)
        from zeroRow in Gen.Int[0, 3]
        let rows = Math.Min(batch.Aggregate(1, (a, b) => a * b), maxBatch)
        let shape = Fit(batch, maxBatch).Concat(normalized).ToArray()
        let normalizedCount = normalized.Aggregate(1, (a, b) => a * b)
        from x in Value(level, scale).Array[shape.Aggregate(1, (a, b) => a * b)]
        from w in Value(Math.Min(level, 1), 1).Array[weighted ? normalizedCount : 0]
        select new FuzzCase(shape, normalizedRank, Groups(normalized, groupPick), epsilon, ZeroRow(x, normalizedCount, zeroRow), w);

    private static Gen<int[]> Normalized(int rank, int maxNormalized) => rank == 1
        ? Gen.Frequency((4, Gen.Int[1, 16]), (1, Gen.OneOf([.. new[] { 31, 33, 63, 65, 127, 130, 257 }.Where(d => d <= maxNormalized)])))
            .Select(d => new[] { d })
        : Gen.Int[1, 4].Array[rank];

    private static Gen<double> Value(int level, double scale)
    {
        var normal = Gen.Double[-4, 4].Select(v => v * scale);
        if (level == 0)
        {
            return normal;
        }

        int weight = level == 1 ? 1 : 6;
        var signed = Gen.Bool;
        return Gen.Frequency(
            (40, normal),
            (weight, Gen.OneOf(Specials)),
            (weight, Gen.Select(Gen.OneOf(Tiny), signed, (v, negative) => negative ? -v : v)),
            (weight, Gen.Select(Gen.OneOf(Huge), signed, (v, negative) => negative ? -v : v)));
    }

    /// <summary>Batch dims whose product stays within <paramref name="maxBatch"/> (later dims clamp to 1).</summary>
    private static int[] Fit(int[] batch, int maxBatch)
    {
        var result = (int[])batch.Clone();
        long product = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (product * result[i] > maxBatch)
            {
                result[i] = 1;
            }

            product *= Math.Max(result[i], 1);
        }

        return result;
    }

    private static int Groups(int[] normalized, int pick)
    {
        if (normalized.Length != 1)
        {
            return 1;
        }

        int[] divisors = [.. Enumerable.Range(1, normalized[0]).Where(g => normalized[0] % g == 0)];
        return pick % 3 == 0 ? 1 : divisors[pick % divisors.Length];
    }

    /// <summary>With zeroRow == 1, the first row becomes all zeros (eps = 0 then gives 0/0 = NaN).</summary>
    private static double[] ZeroRow(double[] x, int rowLength, int zeroRow)
    {
        if (zeroRow == 1 && x.Length >= rowLength)
        {
            Array.Clear(x, 0, rowLength);
        }

        return x;
    }
}
