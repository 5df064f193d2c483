namespace IlgpuNorm.IO;

/// <summary>The dtype descriptors IlgpuNorm reads and writes, and the CLR types they map to.</summary>
internal static class NpyDescr
{
    public const string Float32 = "<f4";
    public const string Float16 = "<f2";
    public const string Float64 = "<f8";
    public const string UInt16 = "<u2";

    /// <summary>The size in bytes of one element of a supported descr, or 0 when the descr is not supported.</summary>
    public static int ItemSize(string descr) => descr switch
    {
        Float32 => 4,
        Float16 or UInt16 => 2,
        Float64 => 8,
        _ => 0,
    };

    /// <summary>The element type a supported descr stands for (<c>&lt;u2</c> is read as bfloat16 bits).</summary>
    public static ElementType ElementTypeOf(string descr) => descr switch
    {
        Float32 => ElementType.Float32,
        Float16 => ElementType.Float16,
        UInt16 => ElementType.BFloat16,
        _ => ElementType.Float64,
    };

    /// <summary>The descr of <typeparamref name="T"/>, or null when T has no supported descr.</summary>
    public static string? Of<T>()
    {
        if (typeof(T) == typeof(float)) return Float32;
        if (typeof(T) == typeof(Half)) return Float16;
        if (typeof(T) == typeof(double)) return Float64;
        if (typeof(T) == typeof(BFloat16) || typeof(T) == typeof(ushort)) return UInt16;
        return null;
    }

    /// <summary>The descr of <typeparamref name="T"/>, or an <see cref="ArgumentException"/> naming the parameter.</summary>
    public static string Require<T>(string paramName) =>
        Of<T>() ?? throw new ArgumentException(
            $"Element type {typeof(T).Name} has no .npy descr here; expected float (<f4), System.Half (<f2), double (<f8), BFloat16 or ushort (<u2).",
            paramName);

    /// <summary>Why a descr read from a file is rejected.</summary>
    public static string Unsupported(string descr) =>
        descr.Length > 0 && descr[0] == '>'
            ? $"big-endian descr '{descr}' is not supported; expected little-endian <f4, <f2, <f8 or <u2"
            : $"unsupported descr '{descr}'; expected <f4, <f2, <f8 or <u2";
}
