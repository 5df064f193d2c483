using IlgpuNorm.Runtime;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Ranking, parsing and dispatching: pure parts without a device, the rest on this machine's devices.</summary>
public class DeviceSelectionTests
{
    private static DeviceInfo Device(DeviceKind kind, int index = 0, bool gpu = false) =>
        new(kind, index, $"{kind}{index}", gpu, 0, 1024, 32, false, "test");

    [Fact]
    public void Ranking_PutsCudaThenOpenClGpuThenHostThenOpenClCpuThenSimulator()
    {
        var ranked = DeviceRanking.Rank(
        [
            Device(DeviceKind.Cpu),
            Device(DeviceKind.OpenCL, 0, gpu: false),
            Device(DeviceKind.Host),
            Device(DeviceKind.OpenCL, 1, gpu: true),
            Device(DeviceKind.Cuda, 1, gpu: true),
            Device(DeviceKind.Cuda, 0, gpu: true),
        ]);
        Assert.Equal(["cuda", "cuda:1", "opencl:1", "host", "opencl", "cpu"], ranked.Select(d => d.Request.ToString()));
    }

    [Fact]
    public void Ranking_IsNotByMemorySize()
    {
        var bigCpu = Device(DeviceKind.OpenCL, 0, gpu: false) with { MemoryBytes = 1L << 40 };
        var smallGpu = Device(DeviceKind.OpenCL, 1, gpu: true) with { MemoryBytes = 1L << 30 };
        Assert.Equal(smallGpu, DeviceRanking.Rank([bigCpu, smallGpu])[0]);
    }

    [Theory]
    [InlineData("auto", DeviceKind.Auto, 0)]
    [InlineData("HOST", DeviceKind.Host, 0)]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("opencl:1", DeviceKind.OpenCL, 1)]
    [InlineData(" cuda:0 ", DeviceKind.Cuda, 0)]
    public void DeviceRequest_Parses(string text, DeviceKind kind, int index) =>
        Assert.Equal(new DeviceRequest(kind, index), DeviceRequest.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("host:1")]
    [InlineData("opencl:1:2")]
    public void DeviceRequest_RejectsBadText(string text)
    {
        var ex = Assert.Throws<FormatException>(() => DeviceRequest.Parse(text));
        Assert.Contains("auto|host|cpu|opencl|cuda", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "auto")]
    [InlineData("", "auto")]
    [InlineData("  ", "auto")]
    [InlineData("host", "host")]
    [InlineData(" OpenCL:1 ", "opencl:1")]
    public void EnvironmentVariable_Parses(string? value, string expected) =>
        Assert.Equal(DeviceRequest.Parse(expected), DeviceDispatcher.ParseEnvironment(value));

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:-1")]
    public void EnvironmentVariable_Invalid_NamesTheVariableAndTheValue(string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => DeviceDispatcher.ParseEnvironment(value));
        Assert.Contains($"ILGPUNORM_DEVICE must be auto|host|cpu|opencl|cuda[:N]; got '{value}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_FindsTheHostFirstAndTheCpuAccelerator_AndStartsThem()
    {
        using var catalog = new DeviceCatalog(new ILGPU.Runtime.CPU.CPUDevice(4, 4, 1));
        var log = new List<string>();
        var found = catalog.Enumerate(log.Add);
        Assert.Equal(HostBackend.Description, found[0]);
        var cpu = Assert.Single(found, d => d.Kind == DeviceKind.Cpu);
        Assert.Equal("simulated: 1 multiprocessor(s), one OS thread per GPU thread", cpu.Detail);
        Assert.Empty(log);

        using var host = catalog.Start(found[0]);
        Assert.IsType<HostBackend>(host);
        using var started = catalog.Start(cpu);
        Assert.Equal(cpu, started.Info);
        Assert.Equal(16, Assert.IsType<IlgpuBackend>(started).Kernels.Accelerator.MaxNumThreadsPerGroup);
    }

    [Fact]
    public void Devices_AlwaysIncludeHostAndTheCpuAccelerator()
    {
        var kinds = DeviceDispatcher.Shared.Devices.Select(d => d.Kind).ToList();
        Assert.Contains(DeviceKind.Host, kinds);
        Assert.Contains(DeviceKind.Cpu, kinds);
    }

    [Fact]
    public void Auto_ChoosesTheBestDeviceThatStarts_AndSaysWhy()
    {
        using var dispatcher = new DeviceDispatcher();
        var selection = dispatcher.Select(DeviceRequest.Auto);
        Assert.Equal(dispatcher.Devices[0], selection.Device);
        Assert.False(string.IsNullOrWhiteSpace(selection.Reason));
        Assert.Contains(dispatcher.Messages, m => m.StartsWith("auto: chose", StringComparison.Ordinal));
    }

    [Fact]
    public void ForcedDevice_ThatIsAbsent_ThrowsWithWhatWasFound()
    {
        using var dispatcher = new DeviceDispatcher();
        var ex = Assert.Throws<DeviceUnavailableException>(() => dispatcher.Select(new DeviceRequest(DeviceKind.OpenCL, 9)));
        Assert.Contains("opencl:9", ex.Message, StringComparison.Ordinal);
        Assert.Contains("host", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispatcher_Dispose_IsIdempotent_AndUseAfterDisposeThrows()
    {
        var dispatcher = new DeviceDispatcher();
        _ = dispatcher.Select(DeviceRequest.Cpu);
        _ = dispatcher.Select(DeviceRequest.Host); // resolved twice: the second from the lock-free cache
        _ = dispatcher.Select(DeviceRequest.Host);
        dispatcher.Dispose();
        dispatcher.Dispose();
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Select(DeviceRequest.Host));
        Assert.Throws<ObjectDisposedException>(() => dispatcher.Select(DeviceRequest.Cpu));
    }

    /// <summary>Each request kind keeps its own recent resolution: requests that alternate get their own devices, and two
    /// requests of one kind (cpu, cpu:1 that does not exist) are told apart.</summary>
    [Fact]
    public void Dispatcher_AlternatingRequests_EachResolveToTheirOwnDevice()
    {
        using var dispatcher = new DeviceDispatcher();
        for (int round = 0; round < 3; round++)
        {
            Assert.Equal(DeviceKind.Host, dispatcher.Select(DeviceRequest.Host).Device.Kind);
            Assert.Equal(DeviceKind.Cpu, dispatcher.Select(DeviceRequest.Cpu).Device.Kind);
            Assert.Throws<DeviceUnavailableException>(() => dispatcher.Select(new DeviceRequest(DeviceKind.Cpu, 1)));
            Assert.Equal(DeviceKind.Cpu, dispatcher.Select(DeviceRequest.Cpu).Device.Kind);
            Assert.Equal(DeviceKind.Host, dispatcher.Select(DeviceRequest.Host).Device.Kind);
        }
    }
}
