using System.Numerics;
using IlgpuNorm.Kernels;

namespace IlgpuNorm.Planning;

/// <summary>
/// The launch configuration of <see cref="RmsNormKernel"/> for one problem on one device: a pure
/// function of the segment length, the segment count and the device limits.
/// </summary>
/// <param name="ThreadsPerRow">Threads that reduce one segment; a power of two; depends only on the segment length and the device, so a row's bits never depend on the batch size.</param>
/// <param name="RowsPerGroup">Segments per group (more than one for short rows).</param>
/// <param name="GridSize">Number of groups; they stride over the segments.</param>
internal readonly record struct LaunchPlan(int ThreadsPerRow, int RowsPerGroup, int GridSize)
{
    /// <summary>Elements each GPU thread should sum before another thread is worth adding.</summary>
    internal const int GpuElementsPerThread = 8;

    /// <summary>On the CPU simulator each thread is an OS thread: give each many elements.</summary>
    internal const int SimulatorElementsPerThread = 256;

    /// <summary>The group size a GPU plan aims for when rows are short.</summary>
    internal const int GpuTargetGroupSize = 256;

    /// <summary>Groups per multiprocessor the grid aims for before it starts striding.</summary>
    internal const int GpuWavesPerMultiprocessor = 4;

    /// <summary>
    /// The warp size when the sum trees do their levels below it with warp shuffles (same pairing, same bits, no barriers),
    /// 0 for shared memory only: set on devices with <see cref="DeviceLimits.HasWarpShuffle"/> when the warp size is a power of
    /// two that divides the group (so every warp is full). The kernels take it as their params' <c>WarpShuffle</c>.
    /// </summary>
    public int WarpShuffle { get; init; }

    /// <summary>Threads per group.</summary>
    public int GroupSize => ThreadsPerRow * RowsPerGroup;

    /// <summary>Builds the plan.</summary>
    /// <param name="segmentLength">Elements per segment (&gt; 0).</param>
    /// <param name="segments">Segments in the call (&gt; 0).</param>
    /// <param name="limits">The device.</param>
    /// <param name="vectorWidth">Elements each thread loads at once (a divisor of <paramref name="segmentLength"/>).</param>
    public static LaunchPlan Create(int segmentLength, long segments, DeviceLimits limits, int vectorWidth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segmentLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segments);

        int groupCap = FloorPowerOfTwo(Math.Min(limits.MaxGroupSize, RmsNormKernel.MaxGroupSize));
        int perThread = limits.IsSimulator ? SimulatorElementsPerThread : GpuElementsPerThread;
        int packets = segmentLength / Math.Max(1, vectorWidth);
        int packetsPerThread = Math.Max(1, perThread / Math.Max(1, vectorWidth));
        int wanted = CeilPowerOfTwo((int)Math.Min(1 << 30, (packets + (long)packetsPerThread - 1) / packetsPerThread));
        int threadsPerRow = Math.Min(wanted, groupCap);

        int targetGroup = limits.IsSimulator ? groupCap : Math.Min(groupCap, GpuTargetGroupSize);
        int rowsPerGroup = Math.Max(1, targetGroup / threadsPerRow);
        int multiprocessors = Math.Max(1, limits.Multiprocessors);
        if (limits.IsSimulator)
        {
            // A CPU-like device runs a group on one core: spread a small batch over every core rather than fill one group.
            long perCore = (segments + multiprocessors - 1) / multiprocessors;
            rowsPerGroup = (int)Math.Max(1, Math.Min(rowsPerGroup, perCore));
        }

        int groupSize = threadsPerRow * rowsPerGroup;
        long groupsNeeded = (segments + rowsPerGroup - 1) / rowsPerGroup;
        long resident = limits.IsSimulator
            ? multiprocessors
            : (long)multiprocessors * Math.Max(1, limits.MaxThreadsPerMultiprocessor / groupSize) * GpuWavesPerMultiprocessor;
        int grid = (int)Math.Max(1, Math.Min(groupsNeeded, Math.Min(resident, int.MaxValue)));
        bool shuffles = limits.HasWarpShuffle && limits.WarpSize > 1 && BitOperations.IsPow2(limits.WarpSize) && groupSize % limits.WarpSize == 0;
        return new LaunchPlan(threadsPerRow, rowsPerGroup, grid) { WarpShuffle = shuffles ? limits.WarpSize : 0 };
    }

    /// <summary>Bytes a thread moves per load in the vector kernels.</summary>
    internal const int VectorBytes = 16;

    /// <summary>
    /// Elements per packet for a segment length: 16 bytes' worth (4 float32, 8 float16/bfloat16, 2 float64) when the
    /// length is a multiple of that, else 1 (the scalar kernel). A pure function of the length and the dtype, so the
    /// summation order of a row never depends on the batch.
    /// </summary>
    public static int VectorWidth(int segmentLength, int elementBytes)
    {
        int width = Math.Max(1, VectorBytes / elementBytes);
        return segmentLength % width == 0 ? width : 1;
    }

    internal static int FloorPowerOfTwo(int value) => value <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)value + 1) >> 1;

    internal static int CeilPowerOfTwo(int value) => value <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)value);
}
