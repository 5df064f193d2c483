using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>The argument checks the quantized and backward public APIs share; each names the parameter, what was expected and what was given.</summary>
internal static class ApiChecks
{
    public static void Input(long length, RmsNormProblem problem, ReadOnlySpan<int> shape, string paramName)
    {
        if (length != problem.TotalElements)
        {
            throw new ArgumentException($"Expected {problem.TotalElements} elements in {paramName} for shape {RmsNormProblem.Format(shape)}; got {length}.", paramName);
        }
    }

    public static void Weight(long length, RmsNormProblem problem, ReadOnlySpan<int> normalizedShape, string paramName)
    {
        if (length != 0 && length != problem.NormalizedLength)
        {
            throw new ArgumentException(
                $"Expected a weight of {problem.NormalizedLength} elements (normalized shape {RmsNormProblem.Format(normalizedShape)}); got {length}.", paramName);
        }
    }

    public static void AtLeast(long length, long expected, string paramName)
    {
        if (length < expected)
        {
            throw new ArgumentException($"Expected {paramName} of at least {expected} elements; got {length}.", paramName);
        }
    }

    public static void NoOverlap(ReadOnlySpan<byte> destination, ReadOnlySpan<byte> other, string paramName, string otherName)
    {
        if (!destination.IsEmpty && !other.IsEmpty && destination.Overlaps(other))
        {
            throw new ArgumentException($"Expected {paramName} not to overlap {otherName}; they share memory.", paramName);
        }
    }
}
