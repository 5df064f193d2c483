using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>Round-to-nearest-even narrowing of float32 to a storage type, over a span (vectorized).</summary>
internal interface INarrowFromSingle<T>
    where T : unmanaged
{
    static abstract void Narrow(ReadOnlySpan<float> source, Span<T> destination);
}

/// <summary>float32: a copy.</summary>
internal readonly struct SingleNarrowing : INarrowFromSingle<float>
{
    public static void Narrow(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
}

/// <summary>float16 bits.</summary>
internal readonly struct HalfNarrowing : INarrowFromSingle<ushort>
{
    public static void Narrow(ReadOnlySpan<float> source, Span<ushort> destination) =>
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(destination));
}

/// <summary>bfloat16 bits.</summary>
internal readonly struct BFloat16Narrowing : INarrowFromSingle<ushort>
{
    public static void Narrow(ReadOnlySpan<float> source, Span<ushort> destination) => HostVectors.SingleToBFloat16(source, destination);
}

/// <summary>
/// The vectorized host backward pass for float32, float16 and bfloat16 inputs (float32 math): each row is widened once,
/// then TensorPrimitives computes Σx² (<see cref="HostVectors.SumOfSquares(ReadOnlySpan{float})"/>), Σ w·dy·x (a dot
/// product), dx = r·(w·dy − x·(r²·c)) and the row's dy·x·r added to its block's dweight partial row. Blocks of
/// <see cref="HostBackward.BlockSegments"/> segments and the fixed-order sum of their partial rows are those of
/// <see cref="HostBackward"/>, so the bits depend on the shape only.
/// </summary>
internal static class HostBackwardSingle
{
    public static unsafe void Run<T, TWiden, TNarrow>(
        RmsNormProblem problem, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<float> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged
        where TWiden : struct, IWidenToSingle<T>
        where TNarrow : struct, INarrowFromSingle<T>
    {
        int n = problem.SegmentLength;
        int length = problem.NormalizedLength;
        int groups = problem.NumGroups;
        long segments = problem.Segments;
        bool hasRstd = !rstd.IsEmpty;
        float epsilon = (float)problem.Epsilon;
        long blocks = (segments + HostBackward.BlockSegments - 1) / HostBackward.BlockSegments;
        float[]? weight = w.IsEmpty ? null : new float[w.Length];
        if (weight is not null)
        {
            TWiden.Widen(w, weight);
        }

        float[] partials = weight is null ? [] : new float[checked(blocks * length)];
        fixed (T* pdy = dy, px = x, pdx = dx)
        fixed (float* pr = rstd)
        {
            nint dya = (nint)pdy, xa = (nint)px, dxa = (nint)pdx, ra = (nint)pr;
            HostBlocks.For(blocks, problem.TotalElements * 2, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (firstBlock, lastBlock) =>
            {
                float[] rented = ArrayPool<float>.Shared.Rent(3 * n);
                try
                {
                    var xs = rented.AsSpan(0, n);
                    var gs = rented.AsSpan(n, n);
                    var t = rented.AsSpan(2 * n, n);
                    for (long b = firstBlock; b < lastBlock; b++)
                    {
                        long end = Math.Min(segments, (b + 1) * HostBackward.BlockSegments);
                        for (long s = b * HostBackward.BlockSegments; s < end; s++)
                        {
                            int g = (int)(s % groups);
                            TWiden.Widen(new ReadOnlySpan<T>((T*)xa + s * n, n), xs);
                            TWiden.Widen(new ReadOnlySpan<T>((T*)dya + s * n, n), gs);
                            var ws = weight is null ? default : weight.AsSpan(g * n, n);

                            // t = w·dy (or dy); c = Σ t·x / n.
                            if (weight is null)
                            {
                                gs.CopyTo(t);
                            }
                            else
                            {
                                TensorPrimitives.Multiply(ws, gs, t);
                            }

                            float c = TensorPrimitives.Dot(t, xs) / n;
                            float r = hasRstd ? ((float*)ra)[s] : 1f / MathF.Sqrt(HostVectors.SumOfSquares(xs) / n + epsilon);
                            if (weight is not null)
                            {
                                // partial += (dy·x)·r, before xs and gs are reused.
                                var partial = partials.AsSpan((int)(b * length) + g * n, n);
                                TensorPrimitives.Multiply(gs, xs, gs);
                                TensorPrimitives.MultiplyAdd(gs, r, partial, partial);
                            }

                            // dx = r·(t − x·(r²·c)).
                            TensorPrimitives.MultiplyAdd(xs, -(r * r * c), t, t);
                            TensorPrimitives.Multiply(t, r, t);
                            TNarrow.Narrow(t, new Span<T>((T*)dxa + s * n, n));
                        }
                    }
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(rented);
                }
            });
        }

        if (weight is not null)
        {
            var sum = new float[length];
            for (long b = 0; b < blocks; b++)
            {
                TensorPrimitives.Add(sum, partials.AsSpan((int)(b * length), length), sum);
            }

            TNarrow.Narrow(sum, dw);
        }
    }
}
