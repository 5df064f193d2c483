namespace IlgpuNorm.Kernels;

/// <summary>
/// K consecutive elements loaded and stored as one value: ILGPU turns the load of such a struct into one
/// vector instruction (<c>ld.global.v4.f32</c>, <c>v2.f64</c>, …) when the address is aligned to its size.
/// </summary>
/// <remarks>
/// ILGPU 1.5.3 does not unroll loops, so a loop over the lanes (<c>for (j &lt; K) x[j]</c>) compiles to a jump table
/// per access (<c>brx.idx</c>). Kernels therefore never index a packet: <see cref="Map{TOp}"/> and
/// <see cref="Fold{TAcc, TOp}"/> are written out lane by lane (A, B, C, D…) in each packet type, and take the per-lane
/// arithmetic as an operator struct that ILGPU inlines. The code a packet becomes is straight-line.
/// </remarks>
/// <typeparam name="T">The storage type.</typeparam>
/// <typeparam name="TSelf">The packet type itself, so that <see cref="Map{TOp}"/> reads its operands' fields directly.</typeparam>
internal interface IPacket<T, TSelf>
    where T : unmanaged
    where TSelf : struct, IPacket<T, TSelf>
{
    /// <summary>Elements per packet.</summary>
    int Count { get; }

    /// <summary>Sets every lane i of this packet to <c>op.Apply(x[i], w[i], b[i])</c>.</summary>
    /// <typeparam name="TOp">The per-lane arithmetic.</typeparam>
    void Map<TOp>(TOp op, TSelf x, TSelf w, TSelf b)
        where TOp : struct, ILaneMap<T>;

    /// <summary><c>op.Apply(… op.Apply(op.Apply(acc, lane 0), lane 1) …, lane K - 1)</c>: the lanes in order.</summary>
    TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc>;
}

/// <summary>The arithmetic of one output lane from the same lane of up to three packets (unused operands are ignored).</summary>
/// <typeparam name="T">The storage type.</typeparam>
internal interface ILaneMap<T>
    where T : unmanaged
{
    T Apply(T x, T w, T b);
}

/// <summary>One step of a fold over lanes.</summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <typeparam name="TAcc">The accumulator.</typeparam>
internal interface ILaneFold<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
{
    TAcc Apply(TAcc acc, T x);
}

/// <summary>One element: the scalar kernel.</summary>
internal struct Packet1<T> : IPacket<T, Packet1<T>>
    where T : unmanaged
{
    public T A;

    public readonly int Count => 1;

    public void Map<TOp>(TOp op, Packet1<T> x, Packet1<T> w, Packet1<T> b)
        where TOp : struct, ILaneMap<T> =>
        A = op.Apply(x.A, w.A, b.A);

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc> =>
        op.Apply(acc, A);
}

/// <summary>Two elements (16 bytes of float64).</summary>
internal struct Packet2<T> : IPacket<T, Packet2<T>>
    where T : unmanaged
{
    public T A;
    public T B;

    public readonly int Count => 2;

    public void Map<TOp>(TOp op, Packet2<T> x, Packet2<T> w, Packet2<T> b)
        where TOp : struct, ILaneMap<T>
    {
        A = op.Apply(x.A, w.A, b.A);
        B = op.Apply(x.B, w.B, b.B);
    }

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc> =>
        op.Apply(op.Apply(acc, A), B);
}

/// <summary>Four elements (16 bytes of float32).</summary>
internal struct Packet4<T> : IPacket<T, Packet4<T>>
    where T : unmanaged
{
    public T A;
    public T B;
    public T C;
    public T D;

    public readonly int Count => 4;

    public void Map<TOp>(TOp op, Packet4<T> x, Packet4<T> w, Packet4<T> b)
        where TOp : struct, ILaneMap<T>
    {
        A = op.Apply(x.A, w.A, b.A);
        B = op.Apply(x.B, w.B, b.B);
        C = op.Apply(x.C, w.C, b.C);
        D = op.Apply(x.D, w.D, b.D);
    }

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc>
    {
        acc = op.Apply(acc, A);
        acc = op.Apply(acc, B);
        acc = op.Apply(acc, C);
        return op.Apply(acc, D);
    }
}
