using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Api;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm;

/// <summary>
/// rms_norm on data that already lives on an ILGPU accelerator (<see cref="ArrayView{T}"/>), so a GPU
/// pipeline never goes through the host. One instance per accelerator: it compiles each dtype's kernel
/// once (on first use, or all at once with <see cref="KernelSet.Preload"/>) and keeps the launchers.
/// </summary>
public sealed class RmsNormKernels : KernelSet
{
    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormKernels(Accelerator accelerator)
        : base(accelerator, KernelOperation.Forward)
    {
    }

    /// <summary>The public face of a device's shared kernels (the dispatcher's backend).</summary>
    internal RmsNormKernels(DeviceKernels kernels)
        : base(kernels, KernelOperation.Forward)
    {
    }

    /// <summary>
    /// Computes <c>rms_norm(input, normalized_shape, num_groups, weight, eps)</c> on device-resident data.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight of shape <paramref name="normalizedShape"/>, or an empty view (<c>default</c>) for none.</param>
    /// <param name="output">Receives the result; at least as long as <paramref name="input"/>; may be <paramref name="input"/> itself.</param>
    /// <param name="epsilon">eps, finite and &gt;= 0.</param>
    /// <param name="numGroups">num_groups (&gt;= 1).</param>
    /// <param name="stream">The stream to launch on; the accelerator's default stream when null.</param>
    /// <remarks>The numerics are those of <see cref="RmsNorm"/>. The call returns once the kernel is queued.</remarks>
    /// <exception cref="ArgumentException">A shape, length, dtype, or view's accelerator does not fit; the message names what was expected and what was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> or <paramref name="numGroups"/> is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<T> output,
        double epsilon = RmsNormOptions.DefaultEpsilon,
        int numGroups = 1,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        var (type, problem) = Problem(input, shape, normalizedShape, epsilon, numGroups, nameof(input));
        Enqueue(type, problem, RmsNormExtras.Contiguous(problem.NormalizedLength, RmsNormOptions.Default), input, default, weight, default, output, stream);
    }

    /// <summary>
    /// rms_norm on device-resident data with a bias after the weight, under the options' policy and weight offset
    /// (<see cref="RmsNorm.Compute{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, RmsNormOptions?)"/> on views).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight of shape <paramref name="normalizedShape"/>, or an empty view for none.</param>
    /// <param name="bias">The bias of shape <paramref name="normalizedShape"/>, or an empty view for none.</param>
    /// <param name="output">Receives the result; at least as long as the input; may be the input itself.</param>
    /// <param name="options">eps, num_groups, policy and weight offset (the device is this instance's); the defaults when null.</param>
    /// <param name="stream">The stream to launch on; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentException">A shape, length, dtype, view's accelerator or overlap does not fit, the policy is undefined, or the weight offset is not 0 without a weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps, num_groups or the weight offset is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Compute<T>(
        ArrayView<T> input,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<T> bias,
        ArrayView<T> output,
        RmsNormOptions? options,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = Problem(input, shape, normalizedShape, options.Epsilon, options.NumGroups, nameof(input));
        Enqueue(type, problem, RmsNormExtras.Contiguous(problem.NormalizedLength, options), input, default, weight, bias, output, stream);
    }

    /// <summary>
    /// The fused residual add on device-resident data: <c>residual = (T)(input + residual)</c> in place, then
    /// <c>output = rms_norm(residual)</c> (see <see cref="RmsNorm.ComputeFusedAdd{T}"/>).
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The input, C order, with <paramref name="shape"/>.</param>
    /// <param name="residual">The residual, the input's length; updated in place; overlapping no other view.</param>
    /// <param name="shape">The input's shape.</param>
    /// <param name="normalizedShape">The trailing dimensions to normalize over.</param>
    /// <param name="weight">The weight, or an empty view for none.</param>
    /// <param name="bias">The bias, or an empty view for none.</param>
    /// <param name="output">Receives the result; at least as long as the input; may be the input itself.</param>
    /// <param name="options">eps, num_groups, policy and weight offset; the defaults when null.</param>
    /// <param name="stream">The stream to launch on; the accelerator's default stream when null.</param>
    /// <exception cref="ArgumentException">As the bias overload of <c>Compute</c>, or the residual's length or overlap does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">eps, num_groups or the weight offset is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void ComputeFusedAdd<T>(
        ArrayView<T> input,
        ArrayView<T> residual,
        ReadOnlySpan<int> shape,
        ReadOnlySpan<int> normalizedShape,
        ArrayView<T> weight,
        ArrayView<T> bias,
        ArrayView<T> output,
        RmsNormOptions? options = null,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var (type, problem) = Problem(input, shape, normalizedShape, options.Epsilon, options.NumGroups, nameof(input));
        ApiChecks.Residual(residual.Length, problem);
        Enqueue(type, problem, RmsNormExtras.Contiguous(problem.NormalizedLength, options), input, residual, weight, bias, output, stream);
    }

    /// <summary>
    /// rms_norm over strided rows of device-resident buffers (<see cref="RmsNormRowLayout"/>), with the fused residual
    /// add when <paramref name="residual"/> is not empty. The elements between rows are never read or written.
    /// </summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="ILGPU.Half"/> (or <see cref="System.Half"/>), <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <param name="input">The buffer holding the input rows.</param>
    /// <param name="residual">The buffer holding the residual rows, updated in place; an empty view for no fused add.</param>
    /// <param name="layout">Rows, hidden size and strides.</param>
    /// <param name="weight">The weight of <c>layout.Hidden</c> elements, or an empty view.</param>
    /// <param name="bias">The bias of <c>layout.Hidden</c> elements, or an empty view.</param>
    /// <param name="output">The buffer receiving the rows; may be the input itself with the same stride.</param>
    /// <param name="options">eps, num_groups, policy and weight offset; the defaults when null.</param>
    /// <param name="stream">The stream to launch on; the accelerator's default stream when null.</param>
    /// <remarks>The 16-byte vector kernel runs only when every stride is a whole number of packets and every view is aligned to one; otherwise the scalar kernel.</remarks>
    /// <exception cref="ArgumentException">A buffer is too short or overlaps another it may not, a view is on another accelerator, the policy is undefined, or the weight offset is not 0 without a weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Rows, hidden, a stride, eps, num_groups or the weight offset is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void ComputeRows<T>(
        ArrayView<T> input,
        ArrayView<T> residual,
        RmsNormRowLayout layout,
        ArrayView<T> weight,
        ArrayView<T> bias,
        ArrayView<T> output,
        RmsNormOptions? options = null,
        AcceleratorStream? stream = null)
        where T : unmanaged
    {
        options ??= RmsNormOptions.Default;
        var type = ElementTypes.Require<T>(nameof(input));
        var (problem, extras) = ApiChecks.Rows(layout, options, input.Length, residual.Length, fused: residual.Length != 0);
        Enqueue(type, problem, extras, input, residual, weight, bias, output, stream);
    }

    /// <summary>The checks every entry shares (views' accelerator, weight, bias, options, output, overlaps), then the launch.</summary>
    private void Enqueue<T>(ElementType type, RmsNormProblem problem, RmsNormExtras extras, ArrayView<T> input, ArrayView<T> residual, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output, AcceleratorStream? stream)
        where T : unmanaged
    {
        RequireOn(input, nameof(input));
        RequireOn(output, nameof(output));
        RequireOn(weight, nameof(weight));
        RequireOn(bias, nameof(bias));
        RequireOn(residual, nameof(residual));
        ApiChecks.Epilogue(problem, extras, weight.Length, bias.Length);
        long outputExtent = RmsNormExtras.Extent(problem, extras.OutputRowStride);
        if (output.Length < outputExtent)
        {
            throw new ArgumentException($"Expected an output of at least {outputExtent} elements; got {output.Length}.", nameof(output));
        }

        var x = input.SubView(0, RmsNormExtras.Extent(problem, extras.InputRowStride));
        var y = output.SubView(0, outputExtent);
        if (Overlap(x, y) is { } start && (start != 0 || extras.InputRowStride != extras.OutputRowStride))
        {
            throw new ArgumentException("The output partly overlaps the input; pass the input itself (same stride) for in place, or a separate buffer.", nameof(output));
        }

        if (Overlap(weight, y) is not null || Overlap(bias, y) is not null)
        {
            throw new ArgumentException("The output overlaps the weight or the bias.", nameof(output));
        }

        var r = residual.Length != 0 ? residual.SubView(0, RmsNormExtras.Extent(problem, extras.ResidualRowStride)) : default;
        if (Overlap(r, x) is not null || Overlap(r, y) is not null || Overlap(r, weight) is not null || Overlap(r, bias) is not null)
        {
            throw new ArgumentException("The residual (updated in place) overlaps the input, output, weight or bias; it must be a buffer of its own.", nameof(residual));
        }

        if (problem.TotalElements == 0)
        {
            return;
        }

        using var scope = Kernels.Enter(this);
        Kernels.Forward(stream ?? Accelerator.DefaultStream, problem, type, extras, new ForwardViews<T>(x, r, weight, bias, y));
    }

    /// <summary>The element offset of <paramref name="b"/>'s start in <paramref name="a"/>'s buffer range when the two share bytes; null when they do not (or either is empty).</summary>
    private static long? Overlap<T>(ArrayView<T> a, ArrayView<T> b)
        where T : unmanaged
    {
        long startA = DeviceKernels.IndexInBytes(a);
        long startB = DeviceKernels.IndexInBytes(b);
        bool shared = a.Length != 0 && b.Length != 0 && DeviceKernels.BufferOf(a) is { } buffer && ReferenceEquals(buffer, DeviceKernels.BufferOf(b)) &&
            startA < startB + b.LengthInBytes && startB < startA + a.LengthInBytes;
        return shared ? startB - startA : null;
    }
}
