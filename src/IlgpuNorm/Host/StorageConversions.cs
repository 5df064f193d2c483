using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace IlgpuNorm.Host;

/// <summary>
/// A storage type's conversions to and from float32 over spans (vectorized): exact widening, round-to-nearest-even
/// narrowing. One set for every host path that works on float32 rows (forward, quantize, backward).
/// </summary>
/// <typeparam name="T">The storage type: float, or ushort bits of float16/bfloat16.</typeparam>
internal interface IStorageConversions<T>
    where T : unmanaged
{
    static abstract void Widen(ReadOnlySpan<T> source, Span<float> destination);

    static abstract void Narrow(ReadOnlySpan<float> source, Span<T> destination);
}

/// <summary>float32: copies.</summary>
internal readonly struct SingleStorage : IStorageConversions<float>
{
    public static void Widen(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);

    public static void Narrow(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
}

/// <summary>float16 bits.</summary>
internal readonly struct HalfStorage : IStorageConversions<ushort>
{
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(source), destination);

    public static void Narrow(ReadOnlySpan<float> source, Span<ushort> destination) =>
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(destination));
}

/// <summary>bfloat16 bits.</summary>
internal readonly struct BFloat16Storage : IStorageConversions<ushort>
{
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) => HostSixteenBit.WidenBFloat16(source, destination);

    public static void Narrow(ReadOnlySpan<float> source, Span<ushort> destination) => HostSixteenBit.RoundBFloat16(source, destination);
}
