namespace IlgpuNorm.Planning;

/// <summary>
/// A validated rms_norm problem in flat form: <see cref="Segments"/> consecutive segments of
/// <see cref="SegmentLength"/> elements, each normalized on its own. With <c>num_groups = 1</c>
/// a segment is one slice over the normalized axes; with <c>num_groups = G</c> each slice of
/// C elements is split into G segments of C/G elements. The weight has <see cref="NormalizedLength"/>
/// elements and segment <c>s</c> uses the weight slice starting at <c>(s % NumGroups) * SegmentLength</c>.
/// </summary>
internal readonly record struct RmsNormProblem(
    long Rows,
    int NormalizedLength,
    int NumGroups,
    double Epsilon)
{
    public int SegmentLength => NormalizedLength / NumGroups;

    public long Segments => Rows * NumGroups;

    public long TotalElements => Rows * NormalizedLength;

    /// <summary>
    /// Validates the arguments of <c>rms_norm(input, normalized_shape, num_groups, weight, eps)</c>
    /// and returns the problem. Every failure names the parameter, what was expected and what was given.
    /// </summary>
    public static RmsNormProblem Create(
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        int numGroups,
        double epsilon,
        string shapeName = "shape",
        string normalizedShapeName = "normalizedShape")
    {
        if (normalizedShape.IsEmpty)
        {
            throw new ArgumentException("Expected at least one normalized dimension; got an empty normalized shape.", normalizedShapeName);
        }

        if (shape.Length < normalizedShape.Length)
        {
            throw new ArgumentException(
                $"Expected an input of rank >= {normalizedShape.Length} (the normalized rank); got shape {Format(shape)}.", shapeName);
        }

        long rows = 1;
        int batchRank = shape.Length - normalizedShape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentOutOfRangeException(shapeName, $"Expected non-negative dimensions; got shape {Format(shape)}.");
            }

            if (i < batchRank)
            {
                rows = checked(rows * shape[i]);
            }
        }

        long normalized = 1;
        for (int i = 0; i < normalizedShape.Length; i++)
        {
            if (normalizedShape[i] <= 0)
            {
                throw new ArgumentOutOfRangeException(normalizedShapeName,
                    $"Expected positive normalized dimensions; got normalized shape {Format(normalizedShape)}.");
            }

            if (shape[batchRank + i] != normalizedShape[i])
            {
                throw new ArgumentException(
                    $"Expected the input's trailing dimensions to equal the normalized shape {Format(normalizedShape)}; got input shape {Format(shape)}.",
                    normalizedShapeName);
            }

            normalized *= normalizedShape[i];
            if (normalized > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(normalizedShapeName,
                    $"Expected a normalized size of at most {int.MaxValue} elements; got normalized shape {Format(normalizedShape)}.");
            }
        }

        if (numGroups < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numGroups), numGroups, "Expected num_groups >= 1.");
        }

        if (numGroups > 1 && normalizedShape.Length != 1)
        {
            throw new ArgumentException(
                $"num_groups > 1 needs exactly one normalized dimension; got num_groups = {numGroups} with normalized shape {Format(normalizedShape)}.",
                nameof(numGroups));
        }

        if (normalized % numGroups != 0)
        {
            throw new ArgumentException(
                $"Expected the normalized size to be divisible by num_groups; got {normalized} % {numGroups} = {normalized % numGroups}.",
                nameof(numGroups));
        }

        if (!double.IsFinite(epsilon) || epsilon < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Expected a finite eps >= 0.");
        }

        _ = checked(rows * normalized);
        return new RmsNormProblem(rows, (int)normalized, numGroups, epsilon);
    }

    /// <summary>Formats a shape as [a, b, c].</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
