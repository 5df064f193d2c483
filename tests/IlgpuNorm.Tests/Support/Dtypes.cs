using Xunit;

namespace IlgpuNorm.Tests.Support;

/// <summary>A test body generic over the element type.</summary>
internal interface IDtypeBody
{
    void Run<T>()
        where T : unmanaged;
}

/// <summary>Runs one generic body for a dtype named in theory data.</summary>
internal static class Dtypes
{
    public static readonly string[] Names = ["f32", "f16", "bf16", "f64"];

    public static void Run(string dtype, IDtypeBody body)
    {
        switch (dtype)
        {
            case "f32": body.Run<float>(); break;
            case "f16": body.Run<Half>(); break;
            case "bf16": body.Run<BFloat16>(); break;
            case "f64": body.Run<double>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype");
        }
    }

    /// <summary>Every backend present × every dtype.</summary>
    public static TheoryData<string, string> BackendsByDtype()
    {
        var data = new TheoryData<string, string>();
        foreach (string backend in Backends.Names)
        {
            foreach (string dtype in Names)
            {
                data.Add(backend, dtype);
            }
        }

        return data;
    }
}
