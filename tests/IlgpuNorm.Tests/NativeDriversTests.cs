using IlgpuNorm.Runtime;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The import resolver's name mapping (loading a driver needs one; the mapping does not).</summary>
public class NativeDriversTests
{
    [Theory]
    [InlineData("cuda", "libcuda.so.1")]
    [InlineData("libcuda.so", "libcuda.so.1")]
    [InlineData("OpenCL", "libOpenCL.so.1")]
    [InlineData("libOpenCL.so", "libOpenCL.so.1")]
    public void DriverNames_FallBackToTheVersionedLibrary(string name, string fallback) =>
        Assert.Equal(fallback, NativeDrivers.Fallback(name));

    [Fact]
    public void OtherLibraries_AreLeftToTheDefaultLookup() =>
        Assert.Null(NativeDrivers.Fallback("libc"));

    [Fact]
    public void EnsureResolver_IsIdempotent()
    {
        NativeDrivers.EnsureResolver();
        NativeDrivers.EnsureResolver();
        Assert.NotEmpty(DeviceDispatcher.Shared.Devices);
    }
}
