using ILGPU;
using ILGPU.Runtime;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Runtime;

/// <summary>The views of a forward launch; an empty residual, weight or bias view means none.</summary>
internal readonly record struct ForwardViews<T>(ArrayView<T> X, ArrayView<T> Residual, ArrayView<T> W, ArrayView<T> B, ArrayView<T> Y)
    where T : unmanaged;

/// <summary>
/// A compiled <see cref="RmsNormKernel"/> of a dtype and packet width, launched on views of bytes (reinterpreted as packets;
/// the caller checked the alignment). Views a call does not use may be any view of the right accelerator (never read).
/// </summary>
internal delegate void ForwardKernel(AcceleratorStream stream, KernelConfig config, ArrayView<byte> input, ArrayView<byte> residual, ArrayView<byte> weight, ArrayView<byte> bias, ArrayView<byte> output, RmsNormKernelParams parameters);

/// <content>The forward launch: a scalar and a 16-byte vector variant per dtype, chosen by the strides and alignment.</content>
internal sealed partial class DeviceKernels
{
    /// <summary>Whether the last forward launch used the 16-byte vector variant (tests of the variant choice).</summary>
    public bool LastForwardUsedVector { get; private set; }

    /// <summary>Launches a checked forward (inside <see cref="Enter"/>); the views cover the layout's extents.</summary>
    public void Forward<T>(AcceleratorStream stream, RmsNormProblem problem, ElementType type, RmsNormExtras extras, in ForwardViews<T> v)
        where T : unmanaged
    {
        bool hasResidual = v.Residual.Length != 0;
        bool hasWeight = v.W.Length != 0;
        bool hasBias = v.B.Length != 0;

        // Views a call leaves out are the input: never read, and the input's extent keeps even a speculated load in bounds.
        var residual = hasResidual ? v.Residual : v.X;
        int residualStride = hasResidual ? extras.ResidualRowStride : extras.InputRowStride;
        int width = VectorWidth(problem, extras, residualStride, v);
        var kernel = Kernel<ForwardKernel>(KernelOperation.Forward, type, width);
        LastForwardUsedVector = width > 1;
        int n = problem.SegmentLength;
        long rowLength = problem.NormalizedLength;
        foreach (var chunk in new RowChunks(problem))
        {
            var plan = LaunchPlan.Create(n, chunk.Segments, Limits, width);
            var parameters = new RmsNormKernelParams(n, chunk.Segments, problem.NumGroups, plan.ThreadsPerRow, plan.RowsPerGroup, hasWeight ? 1 : 0, problem.Epsilon)
            {
                InputRowStride = extras.InputRowStride / width,
                WarpShuffle = plan.WarpShuffle,
                OutputRowStride = extras.OutputRowStride / width,
                ResidualRowStride = residualStride / width,
                HasResidual = hasResidual ? 1 : 0,
                HasBias = hasBias ? 1 : 0,
                Policy = (int)extras.Policy,
                WeightOffset = extras.WeightOffset,
            };
            kernel(
                stream,
                new KernelConfig(plan.GridSize, plan.GroupSize),
                chunk.Of(v.X, extras.InputRowStride, rowLength),
                chunk.Of(residual, residualStride, rowLength),
                (hasWeight ? v.W : v.X).Cast<byte>(),
                (hasBias ? v.B : v.X).Cast<byte>(),
                chunk.Of(v.Y, extras.OutputRowStride, rowLength),
                parameters);
        }
    }

    private object LoadForward(ElementType type, int width) => (type, width > 1) switch
    {
        (ElementType.Float32, false) => LoadForward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet1<float>>(),
        (ElementType.Float32, true) => LoadForward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet4<float>>(),
        (ElementType.Float16, false) => LoadForward<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, Packet1<ushort>>(),
        (ElementType.Float16, true) => LoadForward<ushort, CompensatedSingle, SingleCodec<ushort, Float16Format>, PackedSixteenBit8>(),
        (ElementType.BFloat16, false) => LoadForward<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, Packet1<ushort>>(),
        (ElementType.BFloat16, true) => LoadForward<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, PackedSixteenBit8>(),
        (_, false) => LoadForward<double, CompensatedSum, Float64Codec, Packet1<double>>(),
        _ => LoadForward<double, CompensatedSum, Float64Codec, Packet2<double>>(),
    };

    private ForwardKernel LoadForward<TS, TAcc, TCodec, TPacket>()
        where TS : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<TS, TAcc>
        where TPacket : unmanaged, IPacket<TS, TPacket>
    {
        var kernel = Accelerator.LoadKernel<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams>(RmsNormKernel.Run<TS, TAcc, TCodec, TPacket>);
        return (stream, config, x, residual, w, b, y, p) => kernel(stream, config, x.Cast<TPacket>(), residual.Cast<TPacket>(), w.Cast<TPacket>(), b.Cast<TPacket>(), y.Cast<TPacket>(), p);
    }

    /// <summary>The 16-byte packet width when every stride is a whole number of packets and every view used is aligned to one; else 1.</summary>
    private unsafe int VectorWidth<T>(RmsNormProblem problem, RmsNormExtras extras, int residualStride, in ForwardViews<T> v)
        where T : unmanaged
    {
        int width = LaunchPlan.VectorWidth(problem.SegmentLength, sizeof(T));
        int packetBytes = width * sizeof(T);
        bool fits = width > 1 && extras.InputRowStride % width == 0 && extras.OutputRowStride % width == 0 && residualStride % width == 0 &&
            Aligned(v.X, packetBytes) && Aligned(v.Y, packetBytes) && Aligned(v.Residual, packetBytes) && Aligned(v.W, packetBytes) && Aligned(v.B, packetBytes);
        return fits ? width : 1;
    }

    /// <summary>
    /// Whether a view (empty: absent, so aligned) starts on a multiple of <paramref name="bytes"/>. The CPU accelerator has
    /// no alignment rule for struct loads; OpenCL buffers start aligned, so only the offset counts there.
    /// </summary>
    private bool Aligned<T>(ArrayView<T> view, int bytes)
        where T : unmanaged =>
        view.Length == 0 || Accelerator.AcceleratorType == AcceleratorType.CPU ||
        ((Accelerator.AcceleratorType == AcceleratorType.OpenCL ? 0 : BufferOf(view)?.NativePtr.ToInt64() ?? 0) + IndexInBytes(view)) % bytes == 0;

    /// <summary>The buffer a view lies in (null for none); a constrained call, so the view is not boxed.</summary>
    internal static MemoryBuffer? BufferOf<TView>(TView view)
        where TView : struct, IArrayView => view.Buffer;

    /// <summary>The view's start in its buffer, in bytes; a constrained call, so the view is not boxed.</summary>
    internal static long IndexInBytes<TView>(TView view)
        where TView : struct, IContiguousArrayView => view.IndexInBytes;
}
