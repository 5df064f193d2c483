using System.Runtime.CompilerServices;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path of the quantized rms_norm: the kernels' codecs and formats run per element (the same float32 numerics
/// as <see cref="RmsNormQuantKernel"/>, summed in the order of a one-thread row), parallel over contiguous blocks of
/// segments for large inputs. Segments are independent, so the split never changes a bit.
/// </summary>
internal static class HostQuantize
{
    public static unsafe void Run<T, TAcc, TCodec, TFormat>(
        RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IQuantCodec<T, TAcc>
        where TFormat : struct, IQuantFormat
    {
        int n = problem.SegmentLength;
        int groups = problem.NumGroups;
        long segments = problem.Segments;
        bool hasWeight = !w.IsEmpty;
        bool writeScales = !scales.IsEmpty;
        fixed (T* px = x, pw = w)
        fixed (byte* pq = q)
        fixed (float* ps = scales)
        {
            nint xa = (nint)px, wa = (nint)pw, qa = (nint)pq, sa = (nint)ps;
            HostBlocks.For(segments, problem.TotalElements, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (first, last) =>
            {
                for (long s = first; s < last; s++)
                {
                    var xs = new ReadOnlySpan<T>((T*)xa + s * n, n);
                    var ws = hasWeight ? new ReadOnlySpan<T>((T*)wa + (s % groups) * n, n) : default;
                    float scale = Segment<T, TAcc, TCodec, TFormat>(xs, ws, new Span<byte>((byte*)qa + s * n, n), problem.Epsilon, settings);
                    if (writeScales)
                    {
                        ((float*)sa)[s] = scale;
                    }
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Segment<T, TAcc, TCodec, TFormat>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, double epsilon, QuantizeSettings settings)
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IQuantCodec<T, TAcc>
        where TFormat : struct, IQuantFormat
    {
        TCodec codec = default;
        TFormat format = default;
        int n = x.Length;
        TAcc acc = default;
        int i = 0;
        while (i < n)
        {
            TAcc block = default;
            for (int k = 0; k < RmsNormKernel.BlockLength && i < n; k++, i++)
            {
                block = codec.AddSquare(block, x[i]);
            }

            acc = codec.Add(acc, block);
        }

        TAcc denominator = codec.Denominator(acc, n, epsilon);
        int hasWeight = w.IsEmpty ? 0 : 1;
        float scale = settings.StaticScale;
        if (scale == 0f)
        {
            float amax = 0f;
            for (int j = 0; j < n; j++)
            {
                float a = Math.Abs(RmsNormQuantKernel.Clamp(codec.Value(x[j], denominator, hasWeight != 0 ? w[j] : x[j], hasWeight), settings.Clamp));
                amax = a > amax ? a : amax;
            }

            scale = amax / format.QMax;
            scale = scale > format.MinScale ? scale : format.MinScale;
        }

        for (int j = 0; j < n; j++)
        {
            float v = RmsNormQuantKernel.Clamp(codec.Value(x[j], denominator, hasWeight != 0 ? w[j] : x[j], hasWeight), settings.Clamp);
            q[j] = format.Encode(v / scale);
        }

        return scale;
    }
}
