using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuNorm.Kernels;

/// <summary>How two partial results of a tree combine (an empty struct or one holding a codec, inlined).</summary>
/// <typeparam name="T">The partial result.</typeparam>
internal interface ITreeOp<T>
    where T : unmanaged
{
    /// <summary>The partial of lane l at the next level, from its own (<paramref name="mine"/>) and lane l + stride's.</summary>
    T Combine(T mine, T other);
}

/// <summary>
/// The kernels' fixed summation tree over the <c>threadsPerRow</c> threads of each segment: at stride
/// s = threadsPerRow/2, …, 2, 1, lane l &lt; s combines its partial with lane l + s's. The pairing, and so the
/// result's bits, depend only on <c>threadsPerRow</c>.
/// </summary>
/// <remarks>
/// <para>Strides of a warp or more go through shared memory, one barrier per level. With <c>warpShuffle</c> = the
/// warp size (the launch plan sets it on CUDA), the levels below the warp size are done in registers with
/// <see cref="Warp.ShuffleDown{T}(T, int)"/> in exactly the same pairing (lane l reads lane l + s's value), so the bits
/// are the same and the last five levels (strides 16..1) need no barrier; a segment within one warp gets its total by
/// <see cref="Warp.Shuffle{T}(T, int)"/> from its lane 0, a longer one through shared memory after one barrier.</para>
/// <para>OpenCL keeps shared memory: ILGPU 1.5.3 maps OpenCL shuffles for Intel devices only, so the shuffle code is
/// folded away (<see cref="Accelerator.CurrentType"/> is a compile-time constant in a kernel). ILGPU's CPU accelerator
/// runs both paths, which is how the tests prove them equal.</para>
/// <para>Every thread of the group must call it (the barriers and the shuffles are collective).</para>
/// </remarks>
internal static class GroupTree
{
    /// <summary>Reduces <paramref name="value"/> over the segment's threads and returns the total to each of them.</summary>
    /// <param name="op">How two partials combine.</param>
    /// <param name="shared">Group-shared scratch, one element per thread.</param>
    /// <param name="value">This thread's partial.</param>
    /// <param name="tid">The thread's index in the group.</param>
    /// <param name="lane">The thread's index in its segment (tid = segment base + lane).</param>
    /// <param name="threadsPerRow">Threads per segment, a power of two.</param>
    /// <param name="warpShuffle">The warp size to shuffle within (a power of two dividing the group size), or 0 for shared memory only.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Reduce<T, TOp>(TOp op, ArrayView<T> shared, T value, int tid, int lane, int threadsPerRow, int warpShuffle)
        where T : unmanaged
        where TOp : struct, ITreeOp<T>
    {
        // A switch, not a comparison: ILGPU replaces CurrentType by a constant per backend and then folds a switch on a
        // constant (a comparison of two constants is not folded), so the OpenCL code never contains a shuffle.
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.CPU:
                return warpShuffle > 1
                    ? Shuffled(op, shared, value, tid, lane, threadsPerRow, warpShuffle)
                    : Shared(op, shared, value, tid, lane, threadsPerRow, 1);
            case AcceleratorType.Cuda:
                return warpShuffle > 1
                    ? Shuffled(op, shared, value, tid, lane, threadsPerRow, warpShuffle)
                    : Shared(op, shared, value, tid, lane, threadsPerRow, 1);
            case AcceleratorType.OpenCL:
                return Shared(op, shared, value, tid, lane, threadsPerRow, 1);
            default:
                return Shared(op, shared, value, tid, lane, threadsPerRow, 1);
        }
    }

    /// <summary>The levels with stride &gt;= <paramref name="stop"/> in shared memory; returns the segment's total when <paramref name="stop"/> is 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Shared<T, TOp>(TOp op, ArrayView<T> shared, T value, int tid, int lane, int threadsPerRow, int stop)
        where T : unmanaged
        where TOp : struct, ITreeOp<T>
    {
        shared[tid] = value;
        Group.Barrier();
        for (int stride = threadsPerRow >> 1; stride >= stop; stride >>= 1)
        {
            if (lane < stride)
            {
                shared[tid] = op.Combine(shared[tid], shared[tid + stride]);
            }

            Group.Barrier();
        }

        return shared[stop == 1 ? tid - lane : tid];
    }

    /// <summary>The levels of a warp or more in shared memory, the rest with shuffles in the same pairing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Shuffled<T, TOp>(TOp op, ArrayView<T> shared, T value, int tid, int lane, int threadsPerRow, int warpShuffle)
        where T : unmanaged
        where TOp : struct, ITreeOp<T>
    {
        if (threadsPerRow > warpShuffle)
        {
            value = Shared(op, shared, value, tid, lane, threadsPerRow, warpShuffle);
        }

        // Lane l < stride adds lane l + stride's value, as the shared tree does (lanes past the warp read their own: unused).
        for (int stride = (threadsPerRow < warpShuffle ? threadsPerRow : warpShuffle) >> 1; stride > 0; stride >>= 1)
        {
            value = op.Combine(value, Warp.ShuffleDown(value, stride));
        }

        if (threadsPerRow <= warpShuffle)
        {
            // The segment lies in one warp: its lane 0 hands the total to the others.
            return Warp.Shuffle(value, Warp.LaneIdx - lane);
        }

        if (lane == 0)
        {
            shared[tid] = value;
        }

        Group.Barrier();
        return shared[tid - lane];
    }
}
