using IlgpuNorm.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuNorm.Tests;

/// <summary><c>ILGPUNORM_REQUIRE_BACKENDS</c>: a required backend that is absent fails the run instead of being skipped.</summary>
public class RequiredBackendsTests(ITestOutputHelper output)
{
    private static readonly string[] HostOnly = ["host", "cpu"];
    private static readonly string[] WithOpenCl = ["host", "cpu", "opencl:0"];

    [Fact]
    public void BackendsPresent_MeetTheRequirement_AndAreReported()
    {
        // Throws here (and in every test on the backends) when a required backend is missing.
        foreach (string line in Backends.Descriptions)
        {
            output.WriteLine(line);
        }

        Assert.Contains("host", Backends.Names);
        Assert.Contains("cpu", Backends.Names);
        Assert.Empty(Backends.Missing(Environment.GetEnvironmentVariable(Backends.RequireVariable), [.. Backends.Names]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ")]
    [InlineData("host,cpu")]
    [InlineData("opencl")]
    [InlineData(" OpenCL ")]
    [InlineData("opencl:0")]
    public void Missing_IsEmpty_WhenEveryEntryIsPresent(string? required) =>
        Assert.Empty(Backends.Missing(required, WithOpenCl));

    [Fact]
    public void Missing_NamesEachAbsentEntry()
    {
        Assert.Equal(["opencl"], Backends.Missing("opencl", HostOnly));
        Assert.Equal(["opencl:1", "cuda"], Backends.Missing("opencl:1, cuda", WithOpenCl));
        Assert.Equal(["cuda:0"], Backends.Missing("cpu:0,cuda:0", WithOpenCl));
    }

    [Theory]
    [InlineData("opecl")]
    [InlineData("auto")]
    [InlineData("opencl:")]
    [InlineData("opencl:x")]
    [InlineData("cuda:0:1")]
    public void Missing_RejectsWhatIsNotABackend(string required)
    {
        var ex = Assert.Throws<ArgumentException>(() => Backends.Missing(required, WithOpenCl));
        Assert.Contains(Backends.RequireVariable, ex.Message, StringComparison.Ordinal);
        Assert.Contains(required, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Require_Throws_WhenARequiredBackendIsAbsent()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Backends.Require("opencl", HostOnly, () => "no OpenCL platform"));
        Assert.Contains("ILGPUNORM_REQUIRE_BACKENDS=opencl requires opencl", ex.Message, StringComparison.Ordinal);
        Assert.Contains("host, cpu", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no OpenCL platform", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Require_Passes_WhenNothingOrOnlyPresentBackendsAreRequired()
    {
        Backends.Require(null, HostOnly, () => string.Empty);
        Backends.Require("opencl", WithOpenCl, () => string.Empty);
    }
}
