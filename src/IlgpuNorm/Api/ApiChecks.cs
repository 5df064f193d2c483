using System.Runtime.InteropServices;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Api;

/// <summary>The checks every public entry (host spans and device views alike) shares; each throws with the public parameter's name.</summary>
internal static class ApiChecks
{
    /// <summary>Checks the dtype and the shapes, and that the input holds exactly the shape's elements; returns the problem.</summary>
    public static (ElementType Type, RmsNormProblem Problem) Shaped<T>(long length, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, int numGroups, double epsilon, string paramName)
    {
        var type = ElementTypes.Require<T>(paramName);
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        if (length != problem.TotalElements)
        {
            throw new ArgumentException($"Expected {problem.TotalElements} elements in {paramName} for shape {RmsNormProblem.Format(shape)}; got {length}.", paramName);
        }

        return (type, problem);
    }

    /// <summary>Throws unless a length is <paramref name="expected"/> (or at least that when not <paramref name="exact"/>).</summary>
    public static void Length(long actual, long expected, string paramName, bool exact = false)
    {
        if (exact ? actual != expected : actual < expected)
        {
            throw new ArgumentException($"Expected {(exact ? string.Empty : "at least ")}{expected} elements in {paramName}; got {actual}.", paramName);
        }
    }

    /// <summary>A weight (or bias) of the normalized length, or none.</summary>
    public static void Weight(long length, RmsNormProblem problem, string paramName = "weight")
    {
        if (length != 0 && length != problem.NormalizedLength)
        {
            throw new ArgumentException($"Expected a {paramName} of {problem.NormalizedLength} elements (the normalized size); got {length}.", paramName);
        }
    }

    /// <summary>The fused add's residual: the input's length.</summary>
    public static void Residual(long residual, RmsNormProblem problem)
    {
        if (residual != problem.TotalElements)
        {
            throw new ArgumentException($"Expected a residual of {problem.TotalElements} elements (the input's); got {residual}.", nameof(residual));
        }
    }

    /// <summary>The backward pass's outputs: dweight at least the weight's length, and empty without a weight.</summary>
    public static void Dweight(long weight, long dweight, RmsNormProblem problem)
    {
        if (weight != 0)
        {
            Length(dweight, problem.NormalizedLength, nameof(dweight));
        }
        else if (dweight != 0)
        {
            throw new ArgumentException($"Expected an empty dweight without a weight; got {dweight} elements.", nameof(dweight));
        }
    }

    /// <summary>A saved 1/rms per segment (rows × num_groups), or none.</summary>
    public static void Rstd(long rstd, RmsNormProblem problem)
    {
        if (rstd != 0 && rstd != problem.Segments)
        {
            throw new ArgumentException($"Expected rstd of {problem.Segments} elements (rows × num_groups) or none; got {rstd}.", nameof(rstd));
        }
    }

    public static void NoOverlap<TA, TB>(ReadOnlySpan<TA> destination, ReadOnlySpan<TB> other, string paramName, string otherName)
        where TA : unmanaged
        where TB : unmanaged
    {
        var a = MemoryMarshal.AsBytes(destination);
        var b = MemoryMarshal.AsBytes(other);
        if (!a.IsEmpty && !b.IsEmpty && a.Overlaps(b))
        {
            throw new ArgumentException($"Expected {paramName} not to overlap {otherName}; they share memory.", paramName);
        }
    }

    /// <summary>
    /// Checks a strided row layout against the options and the lengths of the input and (when fused) residual buffers,
    /// for the host and device entries alike.
    /// </summary>
    public static (RmsNormProblem Problem, RmsNormExtras Extras) Rows(RmsNormRowLayout layout, RmsNormOptions options, long input, long residual, bool fused)
    {
        if (layout.Rows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout.Rows, "Expected layout.Rows >= 0.");
        }

        if (layout.Hidden <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout.Hidden, "Expected layout.Hidden > 0.");
        }

        Stride(layout.InputRowStride, layout.Hidden, "InputRowStride");
        Stride(layout.OutputRowStride, layout.Hidden, "OutputRowStride");
        if (fused)
        {
            Stride(layout.EffectiveResidualRowStride, layout.Hidden, "ResidualRowStride");
        }

        var problem = RmsNormProblem.Create([layout.Rows, layout.Hidden], [layout.Hidden], options.NumGroups, options.Epsilon, nameof(layout), nameof(layout));
        Extent(input, layout, layout.InputRowStride, nameof(input));
        if (fused)
        {
            Extent(residual, layout, layout.EffectiveResidualRowStride, nameof(residual));
        }

        return (problem, new RmsNormExtras(options.Policy, options.WeightOffset, layout.InputRowStride, layout.OutputRowStride, layout.EffectiveResidualRowStride));
    }

    /// <summary>
    /// The forward epilogue: weight and bias of the normalized length (or none), a defined policy, a finite weight
    /// offset, and an offset only with a weight.
    /// </summary>
    public static void Epilogue(RmsNormProblem problem, RmsNormExtras options, long weight, long bias)
    {
        Weight(weight, problem);
        Weight(bias, problem, nameof(bias));

        if (!Enum.IsDefined(options.Policy))
        {
            throw new ArgumentException($"Expected options.Policy to be TensorRtLlm, WeightInFloat32 or InputDtype; got {(int)options.Policy}.", nameof(options));
        }

        if (!float.IsFinite(options.WeightOffset))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.WeightOffset, "Expected a finite options.WeightOffset.");
        }

        if (options.WeightOffset != 0 && weight == 0)
        {
            throw new ArgumentException($"options.WeightOffset = {options.WeightOffset} needs a weight (it is added to the weight); got no weight.", nameof(options));
        }
    }

    private static void Extent(long length, RmsNormRowLayout layout, int stride, string paramName)
    {
        long extent = layout.Extent(stride);
        if (length < extent)
        {
            throw new ArgumentException($"Expected {paramName} of at least {extent} elements ({layout.Rows} rows of {layout.Hidden}, stride {stride}); got {length}.", paramName);
        }
    }

    private static void Stride(int stride, int hidden, string name, string paramName = "layout")
    {
        if (stride < hidden)
        {
            throw new ArgumentOutOfRangeException(paramName, stride, $"Expected layout.{name} >= layout.Hidden ({hidden}); got {stride}.");
        }
    }
}
