namespace IlgpuNorm.Kernels;

/// <summary>
/// K consecutive elements loaded and stored as one value: ILGPU turns the load of such a struct into one
/// vector instruction (<c>ld.global.v4.f32</c>, <c>v2.f64</c>, …) when the address is aligned to its size.
/// <see cref="Get"/> and <see cref="Set"/> are called with constant indices after unrolling.
/// </summary>
/// <typeparam name="T">The storage type.</typeparam>
internal interface IPacket<T>
    where T : unmanaged
{
    /// <summary>Elements per packet.</summary>
    int Count { get; }

    T Get(int index);

    void Set(int index, T value);
}

/// <summary>One element: the scalar kernel.</summary>
internal struct Packet1<T> : IPacket<T>
    where T : unmanaged
{
    public T A;

    public readonly int Count => 1;

    public readonly T Get(int index) => A;

    public void Set(int index, T value) => A = value;
}

/// <summary>Two elements (8 bytes of float32, 16 bytes of float64).</summary>
internal struct Packet2<T> : IPacket<T>
    where T : unmanaged
{
    public T A;
    public T B;

    public readonly int Count => 2;

    public readonly T Get(int index) => index == 0 ? A : B;

    public void Set(int index, T value)
    {
        if (index == 0)
        {
            A = value;
        }
        else
        {
            B = value;
        }
    }
}

/// <summary>Four elements (16 bytes of float32, 8 bytes of 16-bit floats).</summary>
internal struct Packet4<T> : IPacket<T>
    where T : unmanaged
{
    public T A;
    public T B;
    public T C;
    public T D;

    public readonly int Count => 4;

    public readonly T Get(int index) => index switch
    {
        0 => A,
        1 => B,
        2 => C,
        _ => D,
    };

    public void Set(int index, T value)
    {
        switch (index)
        {
            case 0: A = value; break;
            case 1: B = value; break;
            case 2: C = value; break;
            default: D = value; break;
        }
    }
}
