using System.Runtime.InteropServices;

namespace IlgpuNorm.Benchmarking;

/// <summary>64-byte aligned native memory for host measurements: the same alignment every run, out of the GC's way.</summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed unsafe class NativeBuffer<T> : IDisposable
    where T : unmanaged
{
    private T* pointer;

    /// <summary>Allocates <paramref name="length"/> elements (not initialized: pages are committed when first written).</summary>
    public NativeBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        pointer = (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1) * (nuint)sizeof(T), 64);
    }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The elements.</summary>
    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(pointer == null, this);
            return new Span<T>(pointer, Length);
        }
    }

    /// <summary>Frees the memory. Idempotent.</summary>
    public void Dispose()
    {
        NativeMemory.AlignedFree(pointer);
        pointer = null;
    }
}
