namespace IlgpuNorm.IO;

/// <summary>The dtype descriptors IlgpuNorm reads and writes, the CLR types they map to, and their byte order.</summary>
internal static class NpyDescr
{
    public const string Float32 = "<f4";
    public const string Float16 = "<f2";
    public const string Float64 = "<f8";
    public const string UInt16 = "<u2";

    /// <summary>The element type and item size of a supported descr (<c>&lt;u2</c> is read as bfloat16 bits), or null.</summary>
    public static (ElementType Type, int Size)? Find(string descr) => descr switch
    {
        Float32 => (ElementType.Float32, 4),
        Float16 => (ElementType.Float16, 2),
        Float64 => (ElementType.Float64, 8),
        UInt16 => (ElementType.BFloat16, 2),
        _ => null,
    };

    /// <summary>The size in bytes of one element of a supported descr, or 0 when the descr is not supported.</summary>
    public static int ItemSize(string descr) => Find(descr)?.Size ?? 0;

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

    /// <summary>Why a descr is rejected, as a sentence.</summary>
    public static string Unsupported(string descr) =>
        descr.Length > 0 && descr[0] == '>'
            ? $"Big-endian descr '{descr}' is not supported; expected little-endian <f4, <f2, <f8 or <u2."
            : $"Unsupported descr '{descr}'; expected <f4, <f2, <f8 or <u2.";

    /// <summary>Swaps each element's bytes on a big-endian host (files are little-endian); the swap serves both directions.</summary>
    public static void ToLittleEndian(Span<byte> bytes, int itemSize)
    {
        for (int i = 0; !BitConverter.IsLittleEndian && i < bytes.Length; i += itemSize)
        {
            bytes.Slice(i, itemSize).Reverse();
        }
    }
}
