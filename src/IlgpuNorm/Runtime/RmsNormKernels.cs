using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm;

/// <summary>
/// rms_norm on data that already lives on an ILGPU accelerator (<see cref="ArrayView{T}"/>), so a GPU
/// pipeline never goes through the host. One instance per accelerator: it compiles each dtype's kernel
/// once (on first use, or all at once with <see cref="Preload"/>) and keeps the launchers.
/// </summary>
/// <remarks>
/// <para>The instance does not own the accelerator: dispose the accelerator after this object.</para>
/// <para>Thread safety: ILGPU accelerators and streams are not thread-safe. Calls on one instance are
/// serialized by a lock, and each call binds the accelerator to the calling thread (CUDA contexts are
/// per thread). Launches are asynchronous on the given stream (or the accelerator's default
/// stream): synchronize the stream before reading the output on the host.</para>
/// </remarks>
public sealed partial class RmsNormKernels : IDisposable
{
    private readonly Lock gate = new();
    private readonly DeviceLimits limits;
    private KernelLauncher<float, CompensatedSingle>? float32;
    private KernelLauncher<ushort, CompensatedSingle>? float16;
    private KernelLauncher<ushort, CompensatedSingle>? bfloat16;
    private KernelLauncher<double, CompensatedSum>? float64;
    private bool disposed;

    /// <summary>Creates the kernel set for an accelerator.</summary>
    /// <param name="accelerator">The accelerator the views live on.</param>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public RmsNormKernels(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        limits = AcceleratorLimits.Of(accelerator);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Compiles the kernels of every dtype now, so no later call compiles.</summary>
    /// <exception cref="ObjectDisposedException">The instance was disposed.</exception>
    public void Preload()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            Float32Launcher.Preload();
            Float16Launcher.Preload();
            BFloat16Launcher.Preload();
            Float64Launcher.Preload();
        }
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
        var type = ElementTypes.Require<T>(nameof(input));
        var problem = RmsNormProblem.Create(shape, normalizedShape, numGroups, epsilon);
        RequireOnThisAccelerator(input, nameof(input));
        RequireOnThisAccelerator(output, nameof(output));
        if (input.Length != problem.TotalElements)
        {
            throw new ArgumentException($"Expected {problem.TotalElements} input elements for shape {RmsNormProblem.Format(shape)}; got {input.Length}.", nameof(input));
        }

        if (output.Length < problem.TotalElements)
        {
            throw new ArgumentException($"Expected an output of at least {problem.TotalElements} elements; got {output.Length}.", nameof(output));
        }

        bool hasWeight = weight.Length != 0;
        if (hasWeight)
        {
            RequireOnThisAccelerator(weight, nameof(weight));
            if (weight.Length != problem.NormalizedLength)
            {
                throw new ArgumentException($"Expected a weight of {problem.NormalizedLength} elements (the normalized shape {RmsNormProblem.Format(normalizedShape)}); got {weight.Length}.", nameof(weight));
            }
        }

        if (problem.TotalElements == 0)
        {
            return;
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Accelerator.Bind();
            var s = stream ?? Accelerator.DefaultStream;
            var w = hasWeight ? weight : input; // never read when there is no weight
            switch (type)
            {
                case ElementType.Float32:
                    Float32Launcher.Launch(s, problem, hasWeight, input.Cast<float>(), w.Cast<float>(), output.Cast<float>());
                    break;
                case ElementType.Float16:
                    Float16Launcher.Launch(s, problem, hasWeight, input.Cast<ushort>(), w.Cast<ushort>(), output.Cast<ushort>());
                    break;
                case ElementType.BFloat16:
                    BFloat16Launcher.Launch(s, problem, hasWeight, input.Cast<ushort>(), w.Cast<ushort>(), output.Cast<ushort>());
                    break;
                default:
                    Float64Launcher.Launch(s, problem, hasWeight, input.Cast<double>(), w.Cast<double>(), output.Cast<double>());
                    break;
            }
        }
    }

    /// <summary>Launches a validated call under this instance's lock (the host staging path of <see cref="IlgpuBackend"/>).</summary>
    internal void LaunchLocked<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, KernelLaunch options, ArrayView<T> input, ArrayView<T> residual, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output)
        where T : unmanaged
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            Launch(stream, problem, type, options, input, residual, weight, bias, output);
        }
    }

    /// <summary>Launches a validated call with every option (the caller holds the lock); unused views may be the input.</summary>
    internal void Launch<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, KernelLaunch options, ArrayView<T> input, ArrayView<T> residual, ArrayView<T> weight, ArrayView<T> bias, ArrayView<T> output)
        where T : unmanaged
    {
        switch (type)
        {
            case ElementType.Float32:
                Float32Launcher.Launch(stream, problem, options, input.Cast<float>(), residual.Cast<float>(), weight.Cast<float>(), bias.Cast<float>(), output.Cast<float>());
                break;
            case ElementType.Float16:
                Float16Launcher.Launch(stream, problem, options, input.Cast<ushort>(), residual.Cast<ushort>(), weight.Cast<ushort>(), bias.Cast<ushort>(), output.Cast<ushort>());
                break;
            case ElementType.BFloat16:
                BFloat16Launcher.Launch(stream, problem, options, input.Cast<ushort>(), residual.Cast<ushort>(), weight.Cast<ushort>(), bias.Cast<ushort>(), output.Cast<ushort>());
                break;
            default:
                Float64Launcher.Launch(stream, problem, options, input.Cast<double>(), residual.Cast<double>(), weight.Cast<double>(), bias.Cast<double>(), output.Cast<double>());
                break;
        }

        LastLaunchUsedVector = type switch
        {
            ElementType.Float32 => Float32Launcher.LastUsedVector,
            ElementType.Float16 => Float16Launcher.LastUsedVector,
            ElementType.BFloat16 => BFloat16Launcher.LastUsedVector,
            _ => Float64Launcher.LastUsedVector,
        };
    }

    /// <summary>Releases the compiled kernels' launchers. Idempotent. Does not dispose the accelerator.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            float32 = null;
            float16 = null;
            bfloat16 = null;
            float64 = null;
        }
    }

    private KernelLauncher<float, CompensatedSingle> Float32Launcher =>
        float32 ??= new(Accelerator, limits,
            static a => new KernelVariant<float, CompensatedSingle, Float32Codec, Packet1<float>>(a),
            static a => new KernelVariant<float, CompensatedSingle, Float32Codec, Packet4<float>>(a));

    private KernelLauncher<ushort, CompensatedSingle> Float16Launcher =>
        float16 ??= new(Accelerator, limits,
            static a => new KernelVariant<ushort, CompensatedSingle, SixteenBitCodec<Float16Format>, Packet1<ushort>>(a),
            static a => new KernelVariant<ushort, CompensatedSingle, SixteenBitCodec<Float16Format>, PackedSixteenBit8>(a));

    private KernelLauncher<ushort, CompensatedSingle> BFloat16Launcher =>
        bfloat16 ??= new(Accelerator, limits,
            static a => new KernelVariant<ushort, CompensatedSingle, SixteenBitCodec<BFloat16Format>, Packet1<ushort>>(a),
            static a => new KernelVariant<ushort, CompensatedSingle, SixteenBitCodec<BFloat16Format>, PackedSixteenBit8>(a));

    private KernelLauncher<double, CompensatedSum> Float64Launcher =>
        float64 ??= new(Accelerator, limits,
            static a => new KernelVariant<double, CompensatedSum, Float64Codec, Packet1<double>>(a),
            static a => new KernelVariant<double, CompensatedSum, Float64Codec, Packet2<double>>(a));

    private void RequireOnThisAccelerator<T>(ArrayView<T> view, string paramName)
        where T : unmanaged
    {
        var owner = view.GetAccelerator();
        if (view.Length != 0 && owner is not null && !ReferenceEquals(owner, Accelerator))
        {
            throw new ArgumentException($"Expected a view on accelerator '{Accelerator.Name}'; got one on '{owner.Name}'.", paramName);
        }
    }
}
