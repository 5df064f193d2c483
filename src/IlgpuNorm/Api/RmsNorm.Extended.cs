using IlgpuNorm.Api;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <content>The extended forward pass: bias, fused residual add and strided rows.</content>
public static partial class RmsNorm
{
    /// <summary>Computes rms_norm with a bias added after the weight, into <paramref name="destination"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="bias">The bias, of shape <paramref name="normalizedShape"/>, added after the weight as <see cref="RmsNormPolicy"/> says; empty for none.</param>
    /// <param name="destination">Receives the result; at least as long as the input; may be the input itself.</param>
    /// <param name="options">eps, num_groups, policy, weight offset and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The dtype is unsupported; a shape or length does not fit; the destination partly overlaps the input or overlaps the weight or bias; the options' policy is undefined or their weight offset is not 0 without a weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a normalized dimension is zero, eps is negative or not finite, num_groups &lt; 1, or the weight offset is not finite.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Compute<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias,
        Span<T> destination,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(input));
        Run(type, problem, RmsNormExtras.Contiguous(problem.NormalizedLength, options), input, default, weight, bias, destination, options);
    }

    /// <summary>
    /// The fused residual add: <c>residual = (T)(input + residual)</c> in place, then <c>destination = rms_norm(residual)</c>,
    /// in one pass (vLLM's <c>fused_add_rms_norm</c>, FlashInfer's <c>fused_add_rmsnorm</c>).
    /// </summary>
    /// <remarks>
    /// The sum is computed in float32 (float64 for float64) and rounded to <typeparamref name="T"/>, and the norm is computed
    /// from that rounded sum, so the result equals, bit for bit, <c>residual = (T)(input + residual)</c> followed by
    /// <see cref="Compute{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, RmsNormOptions?)"/>
    /// of the residual on the same device. Bytes moved: the input and residual read once, the destination and residual written once.
    /// </remarks>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input (the layer's output), in C order.</param>
    /// <param name="residual">The residual stream, the input's length; updated in place. It must not overlap any other argument.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="bias">The bias, of shape <paramref name="normalizedShape"/>; empty for none.</param>
    /// <param name="destination">Receives the normalized sum; at least as long as the input; may be the input itself (vLLM's in-place form).</param>
    /// <param name="options">eps, num_groups, policy, weight offset and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">As the bias overload, or the residual's length differs from the input's, or the residual overlaps the input, weight, bias or destination.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, a normalized dimension is zero, eps is negative or not finite, num_groups &lt; 1, or the weight offset is not finite.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void ComputeFusedAdd<T>(
        ReadOnlySpan<T> input,
        Span<T> residual,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias,
        Span<T> destination,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(input));
        ApiChecks.Residual(residual.Length, problem);
        Run(type, problem, RmsNormExtras.Contiguous(problem.NormalizedLength, options), input, residual, weight, bias, destination, options);
    }

    /// <summary>Computes rms_norm over strided rows (<see cref="RmsNormRowLayout"/>): a slice of a bigger buffer, without copies.</summary>
    /// <remarks>Only the rows are read and written: the elements between rows of <paramref name="destination"/> keep their values.</remarks>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The buffer holding the input rows; at least <c>layout.Extent(layout.InputRowStride)</c> elements.</param>
    /// <param name="layout">Rows, hidden size and strides.</param>
    /// <param name="weight">The weight of <c>layout.Hidden</c> elements; empty for none.</param>
    /// <param name="bias">The bias of <c>layout.Hidden</c> elements; empty for none.</param>
    /// <param name="destination">The buffer receiving the rows; at least <c>layout.Extent(layout.OutputRowStride)</c> elements. It may be the input itself with the same stride (in place); any other overlap is an error.</param>
    /// <param name="options">eps, num_groups (splitting each row), policy, weight offset and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The dtype is unsupported, a buffer is too short, a length does not fit, the destination overlaps an argument it may not, the policy is undefined or the weight offset is not 0 without a weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Rows are negative, hidden is not positive, a stride is below hidden, eps, num_groups or the weight offset are out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void ComputeRows<T>(
        ReadOnlySpan<T> input,
        RmsNormRowLayout layout,
        ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias,
        Span<T> destination,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var type = ElementTypes.Require<T>(nameof(input));
        var (problem, extras) = ApiChecks.Rows(layout, options, input.Length, residual: 0, fused: false);
        Run(type, problem, extras, input, default, weight, bias, destination, options);
    }

    /// <summary>The fused residual add (<see cref="ComputeFusedAdd{T}"/>) over strided rows (<see cref="RmsNormRowLayout"/>).</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The buffer holding the input rows.</param>
    /// <param name="residual">The buffer holding the residual rows (stride <see cref="RmsNormRowLayout.EffectiveResidualRowStride"/>); updated in place; overlaps nothing else.</param>
    /// <param name="layout">Rows, hidden size and strides.</param>
    /// <param name="weight">The weight of <c>layout.Hidden</c> elements; empty for none.</param>
    /// <param name="bias">The bias of <c>layout.Hidden</c> elements; empty for none.</param>
    /// <param name="destination">The buffer receiving the rows; may be the input itself with the same stride.</param>
    /// <param name="options">eps, num_groups, policy, weight offset and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">As <see cref="ComputeRows{T}"/>, or the residual is too short or overlaps another argument.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="ComputeRows{T}"/>.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void ComputeRowsFusedAdd<T>(
        ReadOnlySpan<T> input,
        Span<T> residual,
        RmsNormRowLayout layout,
        ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias,
        Span<T> destination,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var type = ElementTypes.Require<T>(nameof(input));
        var (problem, extras) = ApiChecks.Rows(layout, options, input.Length, residual.Length, fused: true);
        Run(type, problem, extras, input, residual, weight, bias, destination, options);
    }

    /// <summary>Validates the weight, bias, destination and residual against the problem and the strides, then runs: the one forward path of every overload.</summary>
    private static void Run<T>(
        ElementType type,
        RmsNormProblem problem,
        RmsNormExtras extras,
        ReadOnlySpan<T> input,
        Span<T> residual,
        ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias,
        Span<T> destination,
        RmsNormOptions options)
        where T : unmanaged
    {
        ApiChecks.Epilogue(problem, extras, weight.Length, bias.Length);
        long outputExtent = RmsNormExtras.Extent(problem, extras.OutputRowStride);
        if (destination.Length < outputExtent)
        {
            throw new ArgumentException($"Expected a destination of at least {outputExtent} elements; got {destination.Length}.", nameof(destination));
        }

        var x = input[..(int)RmsNormExtras.Extent(problem, extras.InputRowStride)];
        var y = destination[..(int)outputExtent];
        if (x.Overlaps(y, out int offset) && (offset != 0 || extras.InputRowStride != extras.OutputRowStride))
        {
            throw new ArgumentException(
                "The destination partly overlaps the input; pass the input itself (with the same row stride) for an in-place call, or a separate buffer.", nameof(destination));
        }

        if (weight.Overlaps(y) || bias.Overlaps(y))
        {
            throw new ArgumentException($"The destination overlaps the {(weight.Overlaps(y) ? "weight" : "bias")}.", nameof(destination));
        }

        // Only the fused add passes a residual; one that is empty then has no rows either.
        var r = residual.IsEmpty ? residual : residual[..(int)RmsNormExtras.Extent(problem, extras.ResidualRowStride)];
        string? other = r.Overlaps(x) ? "input" : r.Overlaps(y) ? "destination" : r.Overlaps(weight) ? "weight" : r.Overlaps(bias) ? "bias" : null;
        if (other is not null)
        {
            throw new ArgumentException($"The residual (updated in place) overlaps the {other}; it must be a buffer of its own.", nameof(residual));
        }

        if (problem.TotalElements == 0)
        {
            return;
        }

        var request = new ForwardRequest<T>(problem, type, extras, x, r, weight, bias, y);
        DeviceDispatcher.Shared.Execute(options.Device, ref request, static (IComputeBackend backend, ref ForwardRequest<T> c) => backend.Forward(c));
    }
}
