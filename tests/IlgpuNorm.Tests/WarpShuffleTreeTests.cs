using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// The sum trees with warp shuffles (what the plan picks on CUDA) against the shared-memory trees (OpenCL, the CPU): the
/// same bits. ILGPU's CPU accelerator runs both, with 32-thread warps as on CUDA; the flag is forced both ways.
/// </summary>
public sealed class WarpShuffleTreeTests : IDisposable
{
    private const int Warp = 32;

    /// <summary>A GPU-like plan (not the simulator's) with CUDA's warp, so both regimes occur: segments within a warp and segments over several warps.</summary>
    private static readonly DeviceLimits Limits = new(256, Warp, 1, 256, IsSimulator: false) { HasWarpShuffle = true };

    private readonly Context context = Context.Create(b => b.CPU(new CPUDevice(Warp, 8, 1)));
    private readonly CPUAccelerator accelerator;

    public WarpShuffleTreeTests() => accelerator = context.CreateCPUAccelerator(0);

    public void Dispose()
    {
        accelerator.Dispose();
        context.Dispose();
    }

    [Fact]
    public void Plan_ShufflesOnCudaLikeDevicesOnly()
    {
        Assert.Equal(Warp, LaunchPlan.Create(4096, 3, Limits).WarpShuffle);
        Assert.Equal(0, LaunchPlan.Create(4096, 3, Limits with { HasWarpShuffle = false }).WarpShuffle);
    }

    // 64 float32 in v4 packets: 8 threads per row (a segment within a warp); 4096: 256 threads (shared levels, then shuffles);
    // 1000 scalar: 128 threads; 37 scalar: 8 threads, the last rows of a pass inactive.
    [Theory]
    [InlineData(64, 4)]
    [InlineData(4096, 4)]
    [InlineData(1000, 1)]
    [InlineData(37, 1)]
    public void Forward_Float32_ShuffleAndSharedTrees_GiveTheSameBits(int n, int width)
    {
        int rows = 7;
        var x = TestData.Random<float>(rows * n, 11);
        var w = TestData.Random<float>(n, 12);
        var plan = LaunchPlan.Create(n, rows, Limits, width);
        Assert.Equal(Warp, plan.WarpShuffle);
        float[] shared = width == 4
            ? Forward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet4<float>>(x, w, rows, n, plan, 0)
            : Forward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet1<float>>(x, w, rows, n, plan, 0);
        float[] shuffled = width == 4
            ? Forward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet4<float>>(x, w, rows, n, plan, Warp)
            : Forward<float, CompensatedSingle, SingleCodec<float, Float32Format>, Packet1<float>>(x, w, rows, n, plan, Warp);
        AssertSameBits(shared, shuffled);

        // Not vacuous: the result is the norm (the first row against a float64 reference).
        double ms = x.Take(n).Sum(v => (double)v * v) / n;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(x[i] / Math.Sqrt(ms + 1e-6) * w[i], shared[i], 1e-4 * (1 + Math.Abs(shared[i])));
        }
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(96)]
    public void Forward_BFloat16AndFloat64_ShuffleAndSharedTrees_GiveTheSameBits(int n)
    {
        int rows = 5;
        var x = TestData.Random<float>(rows * n, 21).Select(BFloat16.RoundToBits).ToArray();
        var w = TestData.Random<float>(n, 22).Select(BFloat16.RoundToBits).ToArray();
        var plan = LaunchPlan.Create(n, rows, Limits, 8);
        AssertSameBits(
            Forward<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, PackedSixteenBit8>(x, w, rows, n, plan, 0),
            Forward<ushort, CompensatedSingle, SingleCodec<ushort, BFloat16Format>, PackedSixteenBit8>(x, w, rows, n, plan, Warp));

        var xd = TestData.Random<double>(rows * n, 23);
        var wd = TestData.Random<double>(n, 24);
        var planD = LaunchPlan.Create(n, rows, Limits, 2);
        AssertSameBits(
            Forward<double, CompensatedSum, Float64Codec, Packet2<double>>(xd, wd, rows, n, planD, 0),
            Forward<double, CompensatedSum, Float64Codec, Packet2<double>>(xd, wd, rows, n, planD, Warp));
    }

    [Theory]
    [InlineData(3000)]
    [InlineData(40)]
    public void Quantize_ShuffleAndSharedTrees_GiveTheSameCodesAndScales(int n)
    {
        int rows = 6;
        var x = TestData.Random<float>(rows * n, 31);
        var w = TestData.Random<float>(n, 32);
        var plan = LaunchPlan.Create(n, rows, Limits);
        var (codes0, scales0) = Quantize(x, w, rows, n, plan, 0);
        var (codes1, scales1) = Quantize(x, w, rows, n, plan, Warp);
        Assert.Equal(codes0, codes1);
        AssertSameBits(scales0, scales1);
        Assert.Contains(codes0, c => c != 0);
    }

    [Theory]
    [InlineData(3000)]
    [InlineData(40)]
    public void Backward_ShuffleAndSharedTrees_GiveTheSameBits(int n)
    {
        int rows = 6;
        var x = TestData.Random<float>(rows * n, 41);
        var dy = TestData.Random<float>(rows * n, 42);
        var w = TestData.Random<float>(n, 43);
        var plan = LaunchPlan.Create(n, rows, Limits);
        var (dx0, partials0) = Backward(dy, x, w, rows, n, plan, 0);
        var (dx1, partials1) = Backward(dy, x, w, rows, n, plan, Warp);
        AssertSameBits(dx0, dx1);
        AssertSameBits(partials0, partials1);
        Assert.Contains(dx0, v => v != 0);
    }

    private T[] Forward<T, TAcc, TCodec, TPacket>(T[] x, T[] w, int rows, int n, LaunchPlan plan, int warpShuffle)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IRmsCodec<T, TAcc>
        where TPacket : unmanaged, IPacket<T, TPacket>
    {
        var kernel = accelerator.LoadKernel<ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, ArrayView<TPacket>, RmsNormKernelParams>(
            RmsNormKernel.Run<T, TAcc, TCodec, TPacket>);
        using var input = accelerator.Allocate1D(x);
        using var weight = accelerator.Allocate1D(w);
        using var output = accelerator.Allocate1D<T>(x.Length);
        var p = new RmsNormKernelParams(n, rows, 1, plan.ThreadsPerRow, plan.RowsPerGroup, 1, 1e-6) { WarpShuffle = warpShuffle };
        var packets = input.View.BaseView.Cast<TPacket>();
        kernel(accelerator.DefaultStream, new KernelConfig(plan.GridSize, plan.GroupSize), packets, packets, weight.View.BaseView.Cast<TPacket>(), weight.View.BaseView.Cast<TPacket>(), output.View.BaseView.Cast<TPacket>(), p);
        accelerator.Synchronize();
        return output.GetAsArray1D();
    }

    private (byte[] Codes, float[] Scales) Quantize(float[] x, float[] w, int rows, int n, LaunchPlan plan, int warpShuffle)
    {
        var kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<byte>, ArrayView<float>, QuantKernelParams>(
            RmsNormQuantKernel.Run<float, CompensatedSingle, SingleCodec<float, Float32Format>, Int8Format>);
        using var input = accelerator.Allocate1D(x);
        using var weight = accelerator.Allocate1D(w);
        using var codes = accelerator.Allocate1D<byte>(x.Length);
        using var scales = accelerator.Allocate1D<float>(rows);
        var p = new QuantKernelParams(n, rows, 1, plan.ThreadsPerRow, plan.RowsPerGroup, 1, 1e-6, 0f, float.PositiveInfinity, 1) { WarpShuffle = warpShuffle };
        kernel(accelerator.DefaultStream, new KernelConfig(plan.GridSize, plan.GroupSize), input.View.BaseView, weight.View.BaseView, codes.View.BaseView, scales.View.BaseView, p);
        accelerator.Synchronize();
        return (codes.GetAsArray1D(), scales.GetAsArray1D());
    }

    private (float[] Dx, float[] Partials) Backward(float[] dy, float[] x, float[] w, int rows, int n, LaunchPlan plan, int warpShuffle)
    {
        var kernel = accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BackwardKernelParams>(
            RmsNormBackwardKernel.Rows<float, float, SingleBackwardCodec<float, Float32Format>>);
        using var g = accelerator.Allocate1D(dy);
        using var input = accelerator.Allocate1D(x);
        using var weight = accelerator.Allocate1D(w);
        using var rstd = accelerator.Allocate1D<float>(1);
        using var dx = accelerator.Allocate1D<float>(x.Length);
        using var partials = accelerator.Allocate1D(new float[plan.GridSize * plan.RowsPerGroup * n]);
        var p = new BackwardKernelParams(n, rows, 1, n, plan.ThreadsPerRow, plan.RowsPerGroup, 1, 0, 0, 1e-6) { WarpShuffle = warpShuffle };
        kernel(accelerator.DefaultStream, new KernelConfig(plan.GridSize, plan.GroupSize), g.View.BaseView, input.View.BaseView, weight.View.BaseView, rstd.View.BaseView, dx.View.BaseView, partials.View.BaseView, p);
        accelerator.Synchronize();
        return (dx.GetAsArray1D(), partials.GetAsArray1D());
    }

    private static void AssertSameBits<T>(T[] expected, T[] actual)
        where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitEqual(expected[i], actual[i]), $"element {i}: {expected[i]} (shared memory) != {actual[i]} (shuffles)");
        }
    }

    // By bits: -0 against +0 and NaN payloads count as different.
    private static unsafe bool BitEqual<T>(T a, T b)
        where T : unmanaged =>
        new ReadOnlySpan<byte>(&a, sizeof(T)).SequenceEqual(new ReadOnlySpan<byte>(&b, sizeof(T)));
}
