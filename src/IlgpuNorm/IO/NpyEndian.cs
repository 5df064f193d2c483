using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace IlgpuNorm.IO;

/// <summary>Byte order between .npy files (always little-endian here) and memory.</summary>
internal static class NpyEndian
{
    /// <summary>Swaps each element's bytes on a big-endian host; does nothing on a little-endian one (the symmetric swap serves both directions).</summary>
    public static void ToLittleEndian(Span<byte> bytes, int itemSize)
    {
        if (BitConverter.IsLittleEndian)
        {
            return;
        }

        switch (itemSize)
        {
            case 2:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(bytes), MemoryMarshal.Cast<byte, ushort>(bytes));
                break;
            case 4:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(bytes), MemoryMarshal.Cast<byte, uint>(bytes));
                break;
            case 8:
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(bytes), MemoryMarshal.Cast<byte, ulong>(bytes));
                break;
        }
    }
}
