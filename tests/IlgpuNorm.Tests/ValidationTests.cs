using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>Every bad input: a clear exception naming the parameter, thrown before any work, the caller's data untouched.</summary>
public class ValidationTests
{
    private static readonly float[] X = [1, 2, 3, 4, 5, 6];

    private static T Throws<T>(string paramName, Action action)
        where T : ArgumentException
    {
        var ex = Assert.Throws<T>(action);
        Assert.Equal(paramName, ex.ParamName);
        return ex;
    }

    [Fact]
    public void InputLength_NotMatchingShape_Throws()
    {
        var ex = Throws<ArgumentException>("input", () => RmsNorm.Compute<float>(X, [2, 4], [4]));
        Assert.Contains("8", ex.Message, StringComparison.Ordinal);
        Assert.Contains("6", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizedShape_NotTrailingDims_Throws()
    {
        var ex = Throws<ArgumentException>("normalizedShape", () => RmsNorm.Compute<float>(X, [2, 3], [2]));
        Assert.Contains("[2, 3]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizedShape_Empty_Throws() =>
        Throws<ArgumentException>("normalizedShape", () => RmsNorm.Compute<float>(X, [2, 3], []));

    [Fact]
    public void NormalizedShape_LongerThanShape_Throws() =>
        Throws<ArgumentException>("shape", () => RmsNorm.Compute<float>(X, [6], [1, 6]));

    [Fact]
    public void NormalizedSize_Zero_Throws() =>
        Throws<ArgumentOutOfRangeException>("normalizedShape", () => RmsNorm.Compute<float>([], [3, 0], [0]));

    [Fact]
    public void NegativeDimension_Throws() =>
        Throws<ArgumentOutOfRangeException>("shape", () => RmsNorm.Compute<float>(X, [-2, 3], [3]));

    [Fact]
    public void Weight_WrongLength_Throws()
    {
        var ex = Throws<ArgumentException>("weight", () => RmsNorm.Compute<float>(X, [2, 3], [3], [1f, 2f]));
        Assert.Contains("3", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1e-6)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Epsilon_NegativeOrNotFinite_Throws(double eps) =>
        Throws<ArgumentOutOfRangeException>("epsilon", () => RmsNorm.Compute<float>(X, [2, 3], [3], default, new RmsNormOptions { Epsilon = eps }));

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NumGroups_BelowOne_Throws(int groups) =>
        Throws<ArgumentOutOfRangeException>("numGroups", () => RmsNorm.Compute<float>(X, [2, 3], [3], default, new RmsNormOptions { NumGroups = groups }));

    [Fact]
    public void NumGroups_NotDividing_Throws()
    {
        var ex = Throws<ArgumentException>("numGroups", () => RmsNorm.Compute<float>(X, [2, 3], [3], default, new RmsNormOptions { NumGroups = 2 }));
        Assert.Contains("3 % 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NumGroups_WithMultiDimNormalizedShape_Throws() =>
        Throws<ArgumentException>("numGroups", () => RmsNorm.Compute<float>(X, [1, 2, 3], [2, 3], default, new RmsNormOptions { NumGroups = 2 }));

    [Fact]
    public void UnsupportedElementType_Throws() =>
        Throws<ArgumentException>("input", () => RmsNorm.Compute<int>([1, 2, 3], [3], [3]));

    [Fact]
    public void Destination_TooShort_Throws_AndIsUntouched()
    {
        var destination = new float[5];
        Array.Fill(destination, 42f);
        Throws<ArgumentException>("destination", () => RmsNorm.Compute<float>(X, [2, 3], [3], default, destination));
        Assert.All(destination, v => Assert.Equal(42f, v));
    }

    [Fact]
    public void Destination_PartlyOverlappingInput_Throws_AndInputIsUntouched()
    {
        var buffer = new float[8];
        X.CopyTo(buffer, 0);
        var before = (float[])buffer.Clone();
        Throws<ArgumentException>("destination", () => RmsNorm.Compute<float>(buffer.AsSpan(0, 6), [2, 3], [3], default, buffer.AsSpan(2, 6)));
        Assert.Equal(before, buffer);
    }

    [Fact]
    public void Destination_OverlappingWeight_Throws()
    {
        var buffer = new float[9];
        Throws<ArgumentException>("destination", () => RmsNorm.Compute<float>(X, [2, 3], [3], buffer.AsSpan(6, 3), buffer.AsSpan(1, 7)));
    }

    [Fact]
    public void FailedCall_LeavesDestinationUntouched_WhenEpsIsBad()
    {
        var destination = new float[6];
        Array.Fill(destination, 7f);
        Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.Compute<float>(X, [2, 3], [3], default, destination, new RmsNormOptions { Epsilon = -1 }));
        Assert.All(destination, v => Assert.Equal(7f, v));
    }

    [Fact]
    public void UnknownDevice_ThrowsDeviceUnavailable_NamingIt()
    {
        var destination = new float[6];
        var ex = Assert.Throws<DeviceUnavailableException>(() =>
            RmsNorm.Compute<float>(X, [2, 3], [3], default, destination, new RmsNormOptions { Device = new DeviceRequest(DeviceKind.Cpu, 5) }));
        Assert.Contains("cpu:5", ex.Message, StringComparison.Ordinal);
        Assert.All(destination, v => Assert.Equal(0f, v));
    }
}
