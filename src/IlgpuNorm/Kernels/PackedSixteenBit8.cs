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

    // Comparisons and a shift, not a switch: with a constant lane it folds to one field and one shift.
    public readonly ushort Get(int lane)
    {
        int word = lane >> 1;
        uint bits = word == 0 ? A : word == 1 ? B : word == 2 ? C : D;
        return (ushort)(bits >> ((lane & 1) << 4));
    }

    public void Map<TOp, TPacket>(TOp op, TPacket x, TPacket w, TPacket b)
        where TOp : struct, ILaneMap<ushort>
        where TPacket : struct, IPacket<ushort>
    {
        A = Pack(op.Apply(x.Get(0), w.Get(0), b.Get(0)), op.Apply(x.Get(1), w.Get(1), b.Get(1)));
        B = Pack(op.Apply(x.Get(2), w.Get(2), b.Get(2)), op.Apply(x.Get(3), w.Get(3), b.Get(3)));
        C = Pack(op.Apply(x.Get(4), w.Get(4), b.Get(4)), op.Apply(x.Get(5), w.Get(5), b.Get(5)));
        D = Pack(op.Apply(x.Get(6), w.Get(6), b.Get(6)), op.Apply(x.Get(7), w.Get(7), b.Get(7)));
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

    private static uint Pack(ushort low, ushort high) => low | ((uint)high << 16);
}
