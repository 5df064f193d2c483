namespace IlgpuNorm;

/// <summary>Maps CLR element types to <see cref="ElementType"/>.</summary>
public static class ElementTypes
{
    /// <summary>The element type of <typeparamref name="T"/>, or <see langword="null"/> when IlgpuNorm does not support it.</summary>
    /// <typeparam name="T">A CLR type: <see cref="float"/>, <see cref="System.Half"/>, <see cref="ILGPU.Half"/>, <see cref="BFloat16"/> or <see cref="double"/>.</typeparam>
    /// <returns>The element type, or <see langword="null"/>.</returns>
    public static ElementType? Of<T>()
    {
        if (typeof(T) == typeof(float)) return ElementType.Float32;
        if (typeof(T) == typeof(Half) || typeof(T) == typeof(ILGPU.Half)) return ElementType.Float16;
        if (typeof(T) == typeof(BFloat16)) return ElementType.BFloat16;
        if (typeof(T) == typeof(double)) return ElementType.Float64;
        return null;
    }

    /// <summary>The element type of <typeparamref name="T"/>, or an exception naming the parameter.</summary>
    internal static ElementType Require<T>(string paramName) =>
        Of<T>() ?? throw new ArgumentException(
            $"Element type {typeof(T).Name} is not supported; expected float, System.Half, ILGPU.Half, BFloat16 or double.",
            paramName);

    /// <summary>The size of one element in bytes.</summary>
    /// <param name="type">The element type.</param>
    /// <returns>4, 2, 2 or 8.</returns>
    public static int SizeOf(ElementType type) => type switch
    {
        ElementType.Float32 => 4,
        ElementType.Float16 or ElementType.BFloat16 => 2,
        ElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown element type."),
    };

    /// <summary>The short name used by the CLI and in reports: f32, f16, bf16, f64.</summary>
    /// <param name="type">The element type.</param>
    /// <returns>The short name.</returns>
    public static string ShortName(ElementType type) => type switch
    {
        ElementType.Float32 => "f32",
        ElementType.Float16 => "f16",
        ElementType.BFloat16 => "bf16",
        ElementType.Float64 => "f64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown element type."),
    };
}
