namespace IlgpuNorm.Cli.Commands;

/// <summary>One random rms_norm problem of <c>ilgpunorm verify</c>.</summary>
/// <param name="Shape">The input's shape.</param>
/// <param name="NormalizedShape">The normalized shape.</param>
/// <param name="NumGroups">num_groups.</param>
/// <param name="Epsilon">eps.</param>
/// <param name="Weight">Whether a weight is passed.</param>
/// <param name="Specials">Whether rows with NaN, ±Inf and all zeros are planted.</param>
internal sealed record VerifyCase(int[] Shape, int[] NormalizedShape, int NumGroups, double Epsilon, bool Weight, bool Specials)
{
    private static readonly int[] RowChoices = [1, 3, 19, 257];
    private static readonly int[] SlowRowChoices = [1, 3, 19];
    private static readonly int[] HiddenChoices = [1, 2, 31, 32, 33, 127, 1000, 4096, 5120, 8193];
    private static readonly int[] GroupChoices = [2, 3, 4, 8, 16, 32];
    private static readonly double[] EpsilonChoices = [1e-6, 1e-5, 1e-3];

    /// <summary>
    /// <paramref name="count"/> cases: the first has a two-dimensional normalized shape and a batch of rank 2, the second
    /// uses num_groups, the rest walk through every hidden size; every other case plants a NaN row, an Inf row and a zero row.
    /// </summary>
    /// <param name="random">The seeded source.</param>
    /// <param name="count">How many cases.</param>
    /// <param name="slow">Fewer rows, for ILGPU's CPU accelerator.</param>
    /// <returns>The cases.</returns>
    public static List<VerifyCase> Generate(Random random, int count, bool slow)
    {
        var cases = new List<VerifyCase>(count);
        int start = random.Next(HiddenChoices.Length);
        for (int i = 0; i < count; i++)
        {
            int[] rowChoices = slow ? SlowRowChoices : RowChoices;
            int rows = rowChoices[random.Next(rowChoices.Length)];
            double eps = EpsilonChoices[random.Next(EpsilonChoices.Length)];
            bool weight = random.Next(2) == 0;
            bool specials = i % 2 == 0;
            if (i == 0)
            {
                int[] normalized = slow ? [4, 33] : [16, 257];
                cases.Add(new VerifyCase([2, 3, .. normalized], normalized, 1, eps, weight, specials));
                continue;
            }

            // Case 1 always has groups (4096 splits into every group count we try but 3); later ones sometimes.
            int hidden = i == 1 ? 4096 : HiddenChoices[(start + i) % HiddenChoices.Length];
            int[] divisors = [.. GroupChoices.Where(g => hidden % g == 0)];
            int groups = divisors.Length > 0 && (i == 1 || random.Next(3) == 0) ? divisors[random.Next(divisors.Length)] : 1;
            cases.Add(new VerifyCase([rows, hidden], [hidden], groups, eps, weight, specials));
        }

        return cases;
    }

    /// <summary>Fills an input: uniform in [-3, 3], one element in a hundred scaled by 10 to 100, and the planted rows.</summary>
    public T[] Input<T>(Random random)
        where T : unmanaged
    {
        int count = Shape.Aggregate(1, (a, b) => a * b);
        int rowLength = NormalizedShape.Aggregate(1, (a, b) => a * b);
        var values = new T[count];
        for (int i = 0; i < count; i++)
        {
            double v = (random.NextDouble() * 6) - 3;
            if (random.Next(100) == 0)
            {
                v *= 10 + (random.NextDouble() * 90);
            }

            values[i] = Elements.FromDouble<T>(v);
        }

        int rows = count / rowLength;
        if (Specials && rows >= 3)
        {
            int[] picked = [.. Enumerable.Range(0, rows).OrderBy(_ => random.Next()).Take(3)];
            values[(picked[0] * rowLength) + random.Next(rowLength)] = Elements.FromDouble<T>(double.NaN);
            values[(picked[1] * rowLength) + random.Next(rowLength)] = Elements.FromDouble<T>(random.Next(2) == 0 ? double.PositiveInfinity : double.NegativeInfinity);
            values.AsSpan(picked[2] * rowLength, rowLength).Fill(Elements.FromDouble<T>(random.Next(2) == 0 ? 0.0 : -0.0));
        }

        return values;
    }

    /// <summary>A weight: uniform in [-2, 2], or empty.</summary>
    public T[] WeightValues<T>(Random random)
        where T : unmanaged
    {
        if (!Weight)
        {
            return [];
        }

        int length = NormalizedShape.Aggregate(1, (a, b) => a * b);
        var values = new T[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = Elements.FromDouble<T>((random.NextDouble() * 4) - 2);
        }

        return values;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"shape {CliParsing.Format(Shape)}, normalized {CliParsing.Format(NormalizedShape)}, num_groups {NumGroups}, eps {Epsilon:R}, weight {(Weight ? "yes" : "no")}{(Specials ? ", NaN/Inf/zero rows" : string.Empty)}";
}
