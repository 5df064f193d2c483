using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;
using IlgpuNorm.Tests.Support;
using Xunit;

namespace IlgpuNorm.Tests.Quantize;

/// <summary>The quantized and backward operations through the dispatcher's generic path: auto mode falls back to the host when a device lacks them.</summary>
public class QuantBackwardDispatchTests
{
    private static readonly DeviceInfo FakeCuda = new(DeviceKind.Cuda, 0, "Fake GPU", true, 1L << 34, 1024, 32, true, "injected");

    private static DeviceDispatcher Create() =>
        new(new FakeCatalog([HostBackend.Description, FakeCuda], info => info.Kind == DeviceKind.Host ? new HostBackend() : new ForwardOnlyBackend(info)), () => null);

    [Fact]
    public void Auto_FallsBackToTheHost_WhenTheDeviceHasNoQuantizeOrBackward()
    {
        using var dispatcher = Create();
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select().Device.Kind);
        float[] x = [1, -2, 3, 4, 0.5f, -6];
        var problem = RmsNormProblem.Create([2, 3], [3], 1, 1e-6);

        var codes = new byte[6];
        var scales = new float[2];
        var quantize = new QuantizeRequest<float>(problem, ElementType.Float32, x, default, codes, scales, QuantizeSettings.From(new QuantizeOptions()));
        dispatcher.Execute(null, ref quantize, static (IComputeBackend b, ref QuantizeRequest<float> c) => b.Quantize(c));
        Assert.Contains((byte)127, codes); // the row's largest |v| maps to 127
        Assert.All(scales, s => Assert.True(s > 0));
        Assert.Equal(DeviceKind.Host, dispatcher.Select().Device.Kind);
        Assert.Contains(dispatcher.Messages, m => m.Contains("quantized", StringComparison.Ordinal));
    }

    [Fact]
    public void ExplicitDevice_WithoutTheOperation_Throws_NotSupported()
    {
        using var dispatcher = Create();
        float[] x = [1, 2, 3];
        var problem = RmsNormProblem.Create([1, 3], [3], 1, 1e-6);
        var dx = new float[3];
        var e = Assert.Throws<NotSupportedException>(() => RunBackward(dispatcher, problem, x, dx));
        Assert.Contains("backward", e.Message, StringComparison.Ordinal);
        Assert.All(dx, v => Assert.Equal(0f, v));
    }

    private static void RunBackward(DeviceDispatcher dispatcher, RmsNormProblem problem, float[] x, float[] dx)
    {
        var call = new BackwardRequest<float>(problem, ElementType.Float32, x, x, default, default, dx, default);
        dispatcher.Execute(new DeviceRequest(DeviceKind.Cuda), ref call, static (IComputeBackend b, ref BackwardRequest<float> c) => b.Backward(c));
    }

    private sealed class ForwardOnlyBackend(DeviceInfo info) : IComputeBackend
    {
        public DeviceInfo Info { get; } = info;

        public void Forward<T>(scoped in ForwardRequest<T> request)
            where T : unmanaged => throw new NotSupportedException("forward only in this test");

        public void Dispose()
        {
        }
    }
}
