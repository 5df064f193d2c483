using IlgpuNorm.Api;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// The backward pass of rms_norm (dx and dweight from dy), and a forward that also returns the per-segment 1/rms (rstd)
/// for training code to save; on host data, run on the device the dispatcher picks.
/// </summary>
/// <remarks>
/// <para>Per segment of n elements, with r = 1/sqrt(mean(x²) + eps) (the given rstd, or recomputed):</para>
/// <code>
/// dx_i      = r·w_i·dy_i − r³·x_i·(1/n)·Σ_j w_j·dy_j·x_j      // computed as r·(w_i·dy_i − x_i·(r²·c))
/// dweight_j = Σ_segments dy_j·x_j·r                          // over every segment that uses weight element j
/// </code>
/// <para>This is the exact gradient of the unrounded forward x·r·w (PyTorch's and Liger's formula; the forward's
/// intermediate rounding to the input dtype is treated as identity). Without a weight, w = 1 and there is no dweight.</para>
/// <para>Precision: float32 math for float32, float16 and bfloat16 inputs (float64 for float64); dx is rounded once to the
/// input dtype; dweight is accumulated in the math type and rounded once to the input dtype (the weight's dtype, as
/// PyTorch returns it). rstd is float32 for every dtype (for float64 inputs pass none to keep full precision).</para>
/// <para>Determinism: dweight is summed as per-block partial rows (fixed blocks of rows on the host; per-slot rows on
/// devices) that are then added in a fixed order; no atomics, so a rerun on the same backend gives the same bits.</para>
/// </remarks>
public static class RmsNormBackward
{
    /// <summary>Computes dx and dweight.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="dy">The gradient of the output, with <paramref name="shape"/>.</param>
    /// <param name="x">The forward's input, with <paramref name="shape"/>.</param>
    /// <param name="shape">The shape of <paramref name="x"/>.</param>
    /// <param name="normalizedShape">The trailing dimensions that were normalized (<c>normalized_shape</c>).</param>
    /// <param name="weight">The weight, or empty for none.</param>
    /// <param name="dx">Receives dx; at least as long as <paramref name="x"/>; may be <paramref name="dy"/> itself (in place).</param>
    /// <param name="dweight">Receives dweight (the weight's length); must be empty when there is no weight.</param>
    /// <param name="rstd">The saved 1/rms per segment (rows × num_groups) from <see cref="Forward{T}"/> or <see cref="ComputeRstd{T}"/>; empty to recompute it.</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The dtype, a shape or a length does not fit, or an output overlaps an input (other than dx = dy).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, eps or num_groups is out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Compute<T>(
        ReadOnlySpan<T> dy,
        ReadOnlySpan<T> x,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        Span<T> dx,
        Span<T> dweight,
        ReadOnlySpan<float> rstd = default,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = ApiChecks.Shaped<T>(x.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(x));
        ApiChecks.Length(dy.Length, problem.TotalElements, nameof(dy), exact: true);
        ApiChecks.Weight(weight.Length, problem);
        ApiChecks.Length(dx.Length, problem.TotalElements, nameof(dx));
        ApiChecks.Dweight(weight.Length, dweight.Length, problem);
        ApiChecks.Rstd(rstd.Length, problem);
        var dxs = dx[..(int)problem.TotalElements];
        var dws = weight.IsEmpty ? Span<T>.Empty : dweight[..weight.Length];
        if (dy.Overlaps(dxs, out int offset) && offset != 0)
        {
            throw new ArgumentException("Expected dx to be dy itself (in place) or separate; it partly overlaps dy.", nameof(dx));
        }

        ApiChecks.NoOverlap<T, T>(dxs, x, nameof(dx), "x");
        ApiChecks.NoOverlap<T, T>(dxs, weight, nameof(dx), "weight");
        ApiChecks.NoOverlap<T, float>(dxs, rstd, nameof(dx), "rstd");
        ApiChecks.NoOverlap<T, T>(dws, x, nameof(dweight), "x");
        ApiChecks.NoOverlap<T, T>(dws, dy, nameof(dweight), "dy");
        ApiChecks.NoOverlap<T, T>(dws, weight, nameof(dweight), "weight");
        ApiChecks.NoOverlap<T, T>(dws, dxs, nameof(dweight), "dx");
        ApiChecks.NoOverlap<T, float>(dws, rstd, nameof(dweight), "rstd");
        if (problem.TotalElements == 0)
        {
            dws.Clear(); // the sum over no rows
            return;
        }

        var request = new BackwardRequest<T>(problem, type, dy, x, weight, rstd, dxs, dws);
        DeviceDispatcher.Shared.Execute(options.Device, ref request, static (IComputeBackend backend, ref BackwardRequest<T> r) => backend.Backward(r));
    }

    /// <summary>Computes the per-segment 1/rms, <c>1 / sqrt(mean(x²) + eps)</c> (float32 accumulation; float64 for float64 inputs), as float32.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="rstd">Receives one value per segment (rows × num_groups).</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The dtype, a shape or a length does not fit, or rstd overlaps the input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, eps or num_groups is out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void ComputeRstd<T>(ReadOnlySpan<T> input, ReadOnlySpan<int> shape, ReadOnlySpan<int> normalizedShape, Span<float> rstd, RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = ApiChecks.Shaped<T>(input.Length, shape, normalizedShape, options.NumGroups, options.Epsilon, nameof(input));
        ApiChecks.Length(rstd.Length, problem.Segments, nameof(rstd));
        var r = rstd[..(int)problem.Segments];
        ApiChecks.NoOverlap<float, T>(r, input, nameof(rstd), "input");
        if (problem.Segments == 0)
        {
            return;
        }

        var request = new RstdRequest<T>(problem, type, input, r);
        DeviceDispatcher.Shared.Execute(options.Device, ref request, static (IComputeBackend backend, ref RstdRequest<T> c) => backend.Rstd(c));
    }

    /// <summary>
    /// The forward rms_norm (<see cref="RmsNorm.Compute{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, Span{T}, RmsNormOptions?)"/>,
    /// same numerics and bits) that also writes the per-segment 1/rms to save for <see cref="Compute{T}"/>. It reads the input twice.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="System.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input in C order.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight, or empty for none.</param>
    /// <param name="destination">Receives the output (not the input itself here: rstd is computed from the input afterwards).</param>
    /// <param name="rstd">Receives one value per segment (rows × num_groups).</param>
    /// <param name="options">eps, num_groups and device; <see cref="RmsNormOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">As the two calls it makes, or the destination overlaps the input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension, eps or num_groups is out of range.</exception>
    /// <exception cref="DeviceUnavailableException">The requested device is not available.</exception>
    public static void Forward<T>(
        ReadOnlySpan<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ReadOnlySpan<T> weight,
        Span<T> destination,
        Span<float> rstd,
        RmsNormOptions? options = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var problem = RmsNormProblem.Create(shape, normalizedShape, options.NumGroups, options.Epsilon);
        ApiChecks.Length(rstd.Length, problem.Segments, nameof(rstd));
        ApiChecks.NoOverlap<T, T>(destination, input, nameof(destination), "input");
        ApiChecks.NoOverlap<float, T>(rstd, input, nameof(rstd), "input");
        ApiChecks.NoOverlap<float, T>(rstd, destination, nameof(rstd), "destination");
        ApiChecks.NoOverlap<float, T>(rstd, weight, nameof(rstd), "weight");
        ComputeRstd(input, shape, normalizedShape, rstd, options);
        RmsNorm.Compute(input, shape, normalizedShape, weight, destination, options);
    }
}
