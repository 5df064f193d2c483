namespace IlgpuNorm.Kernels;

/// <summary>
/// K consecutive elements loaded and stored as one value: ILGPU turns the load of such a struct into one
/// vector instruction (<c>ld.global.v4.f32</c>, <c>v2.f64</c>, …) when the address is aligned to its size.
/// </summary>
/// <remarks>
/// ILGPU 1.5.3 does not unroll loops, so a loop over the lanes (<c>for (j &lt; K) x.Get(j)</c>) compiles to a jump table
/// per access (<c>brx.idx</c>). Kernels therefore never index a packet: <see cref="Map{TOp, TPacket}"/> and
/// <see cref="Fold{TAcc, TOp}"/> are written out lane by lane (A, B, C, D…) in each packet type, and take the per-lane
/// arithmetic as an operator struct that ILGPU inlines. The code a packet becomes is straight-line.
/// </remarks>
/// <typeparam name="T">The storage type.</typeparam>
internal interface IPacket<T>
    where T : unmanaged
{
    /// <summary>Elements per packet.</summary>
    int Count { get; }

    /// <summary>Lane <paramref name="lane"/>; called only with a constant lane (inside <see cref="Map{TOp, TPacket}"/>), where it folds to a field access.</summary>
    T Get(int lane);

    /// <summary>Sets every lane i of this packet to <c>op.Apply(x[i], w[i], b[i])</c>.</summary>
    /// <typeparam name="TOp">The per-lane arithmetic.</typeparam>
    /// <typeparam name="TPacket">This packet type (the operands have the layout of this packet).</typeparam>
    void Map<TOp, TPacket>(TOp op, TPacket x, TPacket w, TPacket b)
        where TOp : struct, ILaneMap<T>
        where TPacket : struct, IPacket<T>;

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
internal struct Packet1<T> : IPacket<T>
    where T : unmanaged
{
    public T A;

    public readonly int Count => 1;

    public readonly T Get(int lane) => A;

    public void Map<TOp, TPacket>(TOp op, TPacket x, TPacket w, TPacket b)
        where TOp : struct, ILaneMap<T>
        where TPacket : struct, IPacket<T> =>
        A = op.Apply(x.Get(0), w.Get(0), b.Get(0));

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc> =>
        op.Apply(acc, A);
}

/// <summary>Two elements (16 bytes of float64).</summary>
internal struct Packet2<T> : IPacket<T>
    where T : unmanaged
{
    public T A;
    public T B;

    public readonly int Count => 2;

    public readonly T Get(int lane) => lane == 0 ? A : B;

    public void Map<TOp, TPacket>(TOp op, TPacket x, TPacket w, TPacket b)
        where TOp : struct, ILaneMap<T>
        where TPacket : struct, IPacket<T>
    {
        A = op.Apply(x.Get(0), w.Get(0), b.Get(0));
        B = op.Apply(x.Get(1), w.Get(1), b.Get(1));
    }

    public readonly TAcc Fold<TAcc, TOp>(TOp op, TAcc acc)
        where TAcc : unmanaged
        where TOp : struct, ILaneFold<T, TAcc> =>
        op.Apply(op.Apply(acc, A), B);
}

/// <summary>Four elements (16 bytes of float32).</summary>
internal struct Packet4<T> : IPacket<T>
    where T : unmanaged
{
    public T A;
    public T B;
    public T C;
    public T D;

    public readonly int Count => 4;

    // A chain of comparisons, not a switch: with a constant lane it folds to one field.
    public readonly T Get(int lane) => lane == 0 ? A : lane == 1 ? B : lane == 2 ? C : D;

    public void Map<TOp, TPacket>(TOp op, TPacket x, TPacket w, TPacket b)
        where TOp : struct, ILaneMap<T>
        where TPacket : struct, IPacket<T>
    {
        A = op.Apply(x.Get(0), w.Get(0), b.Get(0));
        B = op.Apply(x.Get(1), w.Get(1), b.Get(1));
        C = op.Apply(x.Get(2), w.Get(2), b.Get(2));
        D = op.Apply(x.Get(3), w.Get(3), b.Get(3));
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
