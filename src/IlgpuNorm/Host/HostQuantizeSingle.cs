using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>Exact widening of a storage type to float32, over a span (vectorized).</summary>
internal interface IWidenToSingle<T>
    where T : unmanaged
{
    static abstract void Widen(ReadOnlySpan<T> source, Span<float> destination);
}

/// <summary>float32: a copy.</summary>
internal readonly struct SingleWidening : IWidenToSingle<float>
{
    public static void Widen(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
}

/// <summary>float16 bits.</summary>
internal readonly struct HalfWidening : IWidenToSingle<ushort>
{
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(source), destination);
}

/// <summary>bfloat16 bits.</summary>
internal readonly struct BFloat16Widening : IWidenToSingle<ushort>
{
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) => HostVectors.BFloat16ToSingle(source, destination);
}

/// <summary>
/// The vectorized host path of the quantized rms_norm for float32, float16 and bfloat16 inputs (float32 math): per segment,
/// the row is widened into a float32 buffer, then the same operations as <see cref="RmsNormQuantKernel"/> run over it with
/// TensorPrimitives (x / d, times w, |v| max, / scale); only the final encoding is per element. The sum of squares is
/// <see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/> (float64 lanes, as the host forward).
/// </summary>
internal static class HostQuantizeSingle
{
    public static unsafe void Run<T, TWiden, TFormat>(
        RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
        where TWiden : struct, IWidenToSingle<T>
        where TFormat : struct, IQuantFormat
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        float epsilon = (float)problem.Epsilon;
        // The weight is widened once per call, not once per row.
        float[]? weight = w.IsEmpty ? null : ArrayPool<float>.Shared.Rent(w.Length);
        if (weight is not null)
        {
            TWiden.Widen(w, weight.AsSpan(0, w.Length));
        }

        bool writeScales = !scales.IsEmpty;
        try
        {
            fixed (T* px = x)
            fixed (byte* pq = q)
            fixed (float* ps = scales)
            {
                nint xa = (nint)px, qa = (nint)pq, sa = (nint)ps;
                HostBlocks.For(problem.Segments, problem.TotalElements, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (first, last) =>
                {
                    float[] buffer = ArrayPool<float>.Shared.Rent(n);
                    try
                    {
                        var v = buffer.AsSpan(0, n);
                        for (long s = first; s < last; s++)
                        {
                            TWiden.Widen(new ReadOnlySpan<T>((T*)xa + s * n, n), v);
                            var ws = weight is null ? default : weight.AsSpan((int)(s % groups) * n, n);
                            float scale = Segment<TFormat>(v, ws, new Span<byte>((byte*)qa + s * n, n), epsilon, settings);
                            if (writeScales)
                            {
                                ((float*)sa)[s] = scale;
                            }
                        }
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(buffer);
                    }
                });
            }
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<float>.Shared.Return(weight);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Segment<TFormat>(Span<float> v, ReadOnlySpan<float> w, Span<byte> q, float epsilon, QuantizeSettings settings)
        where TFormat : struct, IQuantFormat
    {
        TFormat format = default;
        float d = MathF.Sqrt(HostVectors.SumOfSquares(v) / v.Length + epsilon);
        TensorPrimitives.Divide(v, d, v);
        if (!w.IsEmpty)
        {
            TensorPrimitives.Multiply(v, w, v);
        }

        if (float.IsFinite(settings.Clamp))
        {
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = RmsNormQuantKernel.Clamp(v[i], settings.Clamp);
            }
        }

        float scale = settings.StaticScale;
        if (scale == 0f)
        {
            float amax = Math.Abs(TensorPrimitives.MaxMagnitude(v));
            if (float.IsNaN(amax))
            {
                // MaxMagnitude propagates NaN; the policy ignores it.
                amax = 0f;
                foreach (float value in v)
                {
                    float a = Math.Abs(value);
                    amax = a > amax ? a : amax;
                }
            }

            scale = amax / format.QMax;
            scale = scale > format.MinScale ? scale : format.MinScale;
        }

        TensorPrimitives.Divide(v, scale, v);
        if (typeof(TFormat) == typeof(Int8Format))
        {
            // Int8Format.Encode, vectorized: round to nearest even, clamp to ±127 (NaN passes), then a saturating conversion
            // that turns NaN into 0.
            TensorPrimitives.Round(v, v);
            TensorPrimitives.Min(v, 127f, v);
            TensorPrimitives.Max(v, -127f, v);
            TensorPrimitives.ConvertToInteger<float, sbyte>(v, MemoryMarshal.Cast<byte, sbyte>(q));
        }
        else
        {
            HostQuantizeFp8Vectors.Encode(v, q);
        }

        return scale;
    }
}
