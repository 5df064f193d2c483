using IlgpuNorm.Planning;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Fallback and overrides, driven through the dispatcher's injection seam (no real GPU needed).</summary>
public class DispatcherFaultTests
{
    private static readonly DeviceInfo FakeCuda = new(DeviceKind.Cuda, 0, "Fake GPU", true, 1L << 34, 1024, 32, true, "injected");

    private static DeviceDispatcher Create(Func<DeviceInfo, IComputeBackend> factory, string? env = null) =>
        new([HostBackend.Description, FakeCuda], factory, name => name == DeviceRequest.EnvironmentVariable ? env : null);

    private static IComputeBackend Working(DeviceInfo info) => info.Kind == DeviceKind.Host ? new HostBackend() : new RecordingBackend(info);

    [Fact]
    public void Auto_FallsBack_WhenTheBestDeviceFailsToStart_AndSaysWhy()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? throw new InvalidOperationException("driver exploded") : Working(info));
        var selection = dispatcher.Select();
        Assert.Equal(DeviceKind.Host, selection.Device.Kind);
        Assert.Contains("driver exploded", selection.Reason, StringComparison.Ordinal);
        Assert.Contains(dispatcher.Messages, m => m.Contains("skipped", StringComparison.Ordinal) && m.Contains("driver exploded", StringComparison.Ordinal));
    }

    [Fact]
    public void Auto_PicksTheGpu_WhenItStarts()
    {
        using var dispatcher = Create(Working);
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select().Device.Kind);
    }

    [Fact]
    public void MessageEvent_ReportsTheChoice()
    {
        using var dispatcher = Create(Working);
        var lines = new List<string>();
        dispatcher.Message += (_, line) => lines.Add(line);
        dispatcher.Select();
        Assert.Contains(lines, l => l.Contains("chose", StringComparison.Ordinal) && l.Contains("cuda", StringComparison.Ordinal));
    }

    [Fact]
    public void EnvironmentVariable_ForcesTheDevice()
    {
        using var dispatcher = Create(Working, env: "host");
        var selection = dispatcher.Select();
        Assert.Equal(DeviceKind.Host, selection.Device.Kind);
        Assert.Contains("ILGPUNORM_DEVICE=host", selection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitRequest_BeatsTheEnvironmentVariable()
    {
        using var dispatcher = Create(Working, env: "host");
        Assert.Equal(DeviceKind.Cuda, dispatcher.Select(new DeviceRequest(DeviceKind.Cuda)).Device.Kind);
    }

    [Fact]
    public void EnvironmentVariable_Invalid_ThrowsNamingIt()
    {
        using var dispatcher = Create(Working, env: "tpu");
        var ex = Assert.Throws<InvalidOperationException>(() => dispatcher.Select());
        Assert.Contains("ILGPUNORM_DEVICE", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tpu", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForcedDevice_ThatFailsToStart_Throws_WithTheCause()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? throw new InvalidOperationException("no libcuda") : Working(info));
        var ex = Assert.Throws<DeviceUnavailableException>(() => dispatcher.Select(new DeviceRequest(DeviceKind.Cuda)));
        Assert.Contains("no libcuda", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_DisposesEveryBackendItStarted()
    {
        RecordingBackend? started = null;
        var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? started = new RecordingBackend(info) : Working(info));
        dispatcher.Select();
        dispatcher.Dispose();
        Assert.True(started!.Disposed);
    }

    [Fact]
    public void Auto_FallsBack_WhenTheDeviceFailsDuringACall_AndNeverRetriesIt()
    {
        RecordingBackend? gpu = null;
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? gpu = new RecordingBackend(info) : Working(info));
        float[] x = [1, 2, 3, 4, 5, 6];
        var y = new float[6];
        var problem = RmsNormProblem.Create([2, 3], [3], 1, 1e-6);

        dispatcher.Execute<float>(null, problem, ElementType.Float32, x, default, y);
        dispatcher.Execute<float>(null, problem, ElementType.Float32, x, default, y);

        Assert.Equal(1, gpu!.Runs);
        Assert.True(gpu.Disposed);
        Assert.Equal(DeviceKind.Host, dispatcher.Select().Device.Kind);
        Assert.Contains(dispatcher.Messages, m => m.Contains("dropped", StringComparison.Ordinal) && m.Contains("kernel did not compile", StringComparison.Ordinal));
        Support.Check.AssertClose(x, [2, 3], [3], [], 1e-6, 1, y, "fallback result");
    }

    [Fact]
    public void ForcedDevice_ThatFailsDuringACall_Throws_AndLeavesTheDestinationUntouched()
    {
        using var dispatcher = Create(info => info.Kind == DeviceKind.Cuda ? new RecordingBackend(info) : Working(info));
        float[] x = [1, 2, 3];
        float[] y = [7, 7, 7];
        var problem = RmsNormProblem.Create([1, 3], [3], 1, 1e-6);
        Assert.Throws<NotSupportedException>(() => dispatcher.Execute<float>(new DeviceRequest(DeviceKind.Cuda), problem, ElementType.Float32, x, default, y));
        Assert.Equal([7f, 7f, 7f], y);
    }

    private sealed class RecordingBackend(DeviceInfo info) : IComputeBackend
    {
        public bool Disposed { get; private set; }

        public int Runs { get; private set; }

        public DeviceInfo Info { get; } = info;

        public void Run<T>(RmsNormProblem problem, ElementType type, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y)
            where T : unmanaged
        {
            Runs++;
            throw new NotSupportedException("kernel did not compile for this device");
        }

        public void Dispose() => Disposed = true;
    }
}
