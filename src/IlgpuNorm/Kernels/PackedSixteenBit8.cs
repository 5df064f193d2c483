namespace IlgpuNorm.Kernels;

/// <summary>
/// Eight 16-bit values (float16 or bfloat16 bits) held as four 32-bit words, so that a packet is loaded and stored
/// with one 16-byte access (<c>ld.global.v4.u32</c> in PTX) instead of two 8-byte ones: PTX vectors have at most four
/// lanes, so eight ushort fields compiled to two <c>v4.b16</c> accesses. Lane 2k is the low half of
/// word k, lane 2k + 1 its high half (little-endian memory order, as in the array).
/// </summary>
internal struct PackedSixteenBit8 : IPacket<ushort>
{
    public uint A;
    public uint B;
    public uint C;
    public uint D;

    public readonly int Count => 8;

    public readonly ushort Get(int index)
    {
        uint word = (index >> 1) switch
        {
            0 => A,
            1 => B,
            2 => C,
            _ => D,
        };
        return (ushort)(word >> ((index & 1) << 4));
    }

    public void Set(int index, ushort value)
    {
        int shift = (index & 1) << 4;
        uint mask = 0xFFFFu << shift;
        uint bits = (uint)value << shift;
        switch (index >> 1)
        {
            case 0: A = (A & ~mask) | bits; break;
            case 1: B = (B & ~mask) | bits; break;
            case 2: C = (C & ~mask) | bits; break;
            default: D = (D & ~mask) | bits; break;
        }
    }
}
