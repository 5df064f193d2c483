using System.Runtime.CompilerServices;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path of the quantized rms_norm: the kernels' codecs and formats run per element (the same float32 numerics
/// as <see cref="RmsNormQuantKernel"/>, summed in the order of a one-thread row), parallel over contiguous blocks of
/// segments for large inputs (a struct block body: no closure per call). Segments are independent, so the split never
/// changes a bit.
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
            var body = new Body<T, TAcc, TCodec, TFormat>
            {
                X = px,
                W = hasWeight ? pw : null,
                Q = pq,
                Scales = writeScales ? ps : null,
                N = n,
                Groups = groups,
                Epsilon = problem.Epsilon,
                Settings = settings,
            };
            HostBlocks.For(segments, problem.TotalElements, body);
        }
    }

    /// <summary>The segments of one block (a struct, so that a call allocates no closure).</summary>
    private unsafe struct Body<T, TAcc, TCodec, TFormat> : IBlockBody
        where T : unmanaged
        where TAcc : unmanaged
        where TCodec : struct, IQuantCodec<T, TAcc>
        where TFormat : struct, IQuantFormat
    {
        public T* X;
        public T* W;
        public byte* Q;
        public float* Scales;
        public int N;
        public int Groups;
        public double Epsilon;
        public QuantizeSettings Settings;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long first, long last)
        {
            int n = N;
            for (long s = first; s < last; s++)
            {
                var xs = new ReadOnlySpan<T>(X + s * n, n);
                var ws = W is null ? default : new ReadOnlySpan<T>(W + (s % Groups) * n, n);
                float scale = Segment<T, TAcc, TCodec, TFormat>(xs, ws, new Span<byte>(Q + s * n, n), Epsilon, Settings);
                if (Scales is not null)
                {
                    Scales[s] = scale;
                }
            }
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
