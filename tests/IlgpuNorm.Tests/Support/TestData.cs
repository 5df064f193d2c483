namespace IlgpuNorm.Tests.Support;

/// <summary>Seeded random test data: never all zeros, in the element type under test.</summary>
internal static class TestData
{
    /// <summary>A value no correct output can take (|y| ≤ sqrt(n)·|w| stays far below it); representable in every dtype.</summary>
    public const double Poison = 30000;

    public static T[] Random<T>(int count, int seed, double scale = 3.0)
        where T : unmanaged
    {
        var random = new Random(seed);
        var data = new T[count];
        for (int i = 0; i < count; i++)
        {
            double v = (random.NextDouble() * 2 - 1) * scale;
            if (v == 0)
            {
                v = 0.5;
            }

            data[i] = Elements.FromDouble<T>(v);
        }

        return data;
    }

    public static T[] Poisoned<T>(int count)
        where T : unmanaged
    {
        var data = new T[count];
        Array.Fill(data, Elements.FromDouble<T>(Poison));
        return data;
    }

    /// <summary>The poison as stored in <typeparamref name="T"/> (30000 is not exact in bfloat16).</summary>
    public static double PoisonIn<T>()
        where T : unmanaged => Elements.ToDouble(Elements.FromDouble<T>(Poison));

    public static T Value<T>(double value)
        where T : unmanaged => Elements.FromDouble<T>(value);
}
