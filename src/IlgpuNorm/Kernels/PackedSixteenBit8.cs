namespace IlgpuNorm.Kernels;

/// <summary>
/// Eight 16-bit values (float16 or bfloat16 bits) held as four 32-bit words, so that a packet is loaded and stored
/// with one 16-byte access (<c>ld.global.v4.u32</c> in PTX) instead of two 8-byte ones: PTX vectors have at most four
/// lanes, so eight ushort fields compiled to two <c>v4.b16</c> accesses. Lane 2k is the low half of
/// word k, lane 2k + 1 its high half (little-endian memory order, as in the array).
/// </summary>
internal struct PackedSixteenBit8 : IPacket<ushort, PackedSixteenBit8>
{
    public uint A;
    public uint B;
    public uint C;
    public uint D;

    public readonly int Count => 8;

    public void Map<TOp>(TOp op, PackedSixteenBit8 x, PackedSixteenBit8 w, PackedSixteenBit8 b)
        where TOp : struct, ILaneMap<ushort>
    {
        A = MapWord(op, x.A, w.A, b.A);
        B = MapWord(op, x.B, w.B, b.B);
        C = MapWord(op, x.C, w.C, b.C);
        D = MapWord(op, x.D, w.D, b.D);
    }

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<ushort, TAcc>
    {
        acc = op.Apply(acc, (ushort)A);
        acc = op.Apply(acc, (ushort)(A >> 16));
        acc = op.Apply(acc, (ushort)B);
        acc = op.Apply(acc, (ushort)(B >> 16));
        acc = op.Apply(acc, (ushort)C);
        acc = op.Apply(acc, (ushort)(C >> 16));
        acc = op.Apply(acc, (ushort)D);
        return op.Apply(acc, (ushort)(D >> 16));
    }

    /// <summary>The two lanes of one word: the low half, then the high half.</summary>
    private static uint MapWord<TOp>(TOp op, uint x, uint w, uint b)
        where TOp : struct, ILaneMap<ushort> =>
        op.Apply((ushort)x, (ushort)w, (ushort)b) | ((uint)op.Apply((ushort)(x >> 16), (ushort)(w >> 16), (ushort)(b >> 16)) << 16);
}
