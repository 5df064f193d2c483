using System.Globalization;
using IlgpuNorm.Verification;

namespace IlgpuNorm.Benchmarking;

/// <summary>Seeded input data for the measurements, and the check that a measured call computed rms_norm.</summary>
public static class BenchData
{
    /// <summary>The base seed: each dtype and shape gets its own seed from it, the same every run.</summary>
    public const int Seed = 20_240_611;

    /// <summary>The seed of one measurement's data.</summary>
    public static int SeedOf(ElementType type, BenchShape shape) =>
        unchecked(Seed + ((int)type * 1_000_003) + (shape.Rows * 7_919) + shape.Hidden);

    /// <summary>Fills with random signs and magnitudes in [min, max): no zeros, no denormals, exact enough in every dtype.</summary>
    public static void Fill<T>(Span<T> destination, Random random, double min, double max)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < destination.Length; i++)
        {
            double magnitude = min + (random.NextDouble() * (max - min));
            destination[i] = Elements.FromDouble<T>(random.Next(2) == 0 ? magnitude : -magnitude);
        }
    }

    /// <summary>Fills x: magnitudes in [0.25, 2.25).</summary>
    public static void FillInput<T>(Span<T> destination, Random random)
        where T : unmanaged => Fill(destination, random, 0.25, 2.25);

    /// <summary>Fills the weight: magnitudes in [0.5, 1.5).</summary>
    public static void FillWeight<T>(Span<T> destination, Random random)
        where T : unmanaged => Fill(destination, random, 0.5, 1.5);

    /// <summary>
    /// Checks the first and last rows of a measured output against the float64 reference, so a measurement never
    /// times code that computes something else.
    /// </summary>
    /// <exception cref="InvalidOperationException">A row differs; the message says where.</exception>
    public static void CheckFirstAndLastRows<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> y, BenchShape shape)
        where T : unmanaged
    {
        foreach (int row in new[] { 0, shape.Rows - 1 }.Distinct())
        {
            var range = new Range(row * shape.Hidden, (row + 1) * shape.Hidden);
            string? error = CheckRow(x[range], w, y[range], row);
            if (error is not null)
            {
                throw new InvalidOperationException($"the result differs from the float64 reference at {error}");
            }
        }
    }

    /// <summary>Checks one row of output against the float64 reference under the tolerance policy.</summary>
    /// <returns>null when the row passes; otherwise what differs.</returns>
    private static string? CheckRow<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> y, int row)
        where T : unmanaged
    {
        int[] shape = [1, x.Length];
        int[] normalized = [x.Length];
        T[] expected = RmsNormReference.Compute<T>(x, shape, normalized, w);
        T[] unweighted = RmsNormReference.Compute<T>(x, shape, normalized, default);
        for (int i = 0; i < x.Length; i++)
        {
            if (!Tolerance.Accepts(y[i], expected[i], unweighted[i], w[i]))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"row {row}, element {i}: got {Elements.ToDouble(y[i]):R}, expected {Elements.ToDouble(expected[i]):R}");
            }
        }

        return null;
    }
}
