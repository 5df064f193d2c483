using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using IlgpuNorm.Kernels;
using IlgpuNorm.Planning;

namespace IlgpuNorm.Host;

/// <summary>
/// The vectorized host path of the quantized rms_norm for float32, float16 and bfloat16 inputs (float32 math, the same
/// operations as <see cref="RmsNormQuantKernel"/>). Per segment, with Vector512: Σx²
/// (<see cref="HostRows.SumOfSquares(ReadOnlySpan{float})"/>, float64 lanes, as the host forward); one pass computing
/// v = clamp((x / d) · w) into a row buffer (L1/L2-resident) and max |v|; one pass dividing by the scale and encoding
/// 64 values per step (int8: saturate, round to nearest even, NaN to 0; FP8: <see cref="HostQuantizeFp8Vectors.Encode16"/>).
/// float16/bfloat16 rows are first widened into the row buffer; the weight is widened once per call. Every step is
/// element-wise or an order-free maximum, so the bits are those of the per-element definition. No managed allocation in
/// steady state (pooled buffers, a struct body); single-threaded below <see cref="HostParallel.MinElementsPerWorker"/>
/// elements per worker.
/// </summary>
internal static class HostQuantizeSingle
{
    /// <summary>1.5 · 2^23: for |c| &lt;= 127, the float32 bits of c + this are 0x4B40_0000 + round-to-even(c).</summary>
    private const float RoundingMagic = 12582912f;

    public static unsafe void Run<T, TConversions, TFormat>(
        RmsNormProblem problem, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<byte> q, Span<float> scales, QuantizeSettings settings)
        where T : unmanaged
        where TConversions : IStorage<T, float>
        where TFormat : struct, IQuantFormat
    {
        // float32 weights are read in place; 16-bit ones are widened once per call, not once per row.
        float[]? weight = w.IsEmpty || typeof(T) == typeof(float) ? null : ArrayPool<float>.Shared.Rent(w.Length);
        try
        {
            if (weight is not null)
            {
                HostStorage.Widen<T, float, TConversions>(w, weight.AsSpan(0, w.Length));
            }

            fixed (T* px = x, pw = w)
            fixed (float* pwf = weight, ps = scales)
            fixed (byte* pq = q)
            {
                var body = new Body<T, TConversions, TFormat>
                {
                    X = px,
                    W = w.IsEmpty ? null : weight is null ? (float*)pw : pwf,
                    Q = pq,
                    Scales = scales.IsEmpty ? null : ps,
                    N = problem.SegmentLength,
                    Groups = problem.NumGroups,
                    Epsilon = (float)problem.Epsilon,
                    Settings = settings,
                    Prefetch = Sse.IsSupported && HostCache.ShouldStream(problem.TotalElements * (sizeof(float) + 1)),
                };
                HostBlocks.For(problem.Segments, problem.TotalElements, body);
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

    private unsafe struct Body<T, TConversions, TFormat> : IBlockBody
        where T : unmanaged
        where TConversions : IStorage<T, float>
        where TFormat : struct, IQuantFormat
    {
        public T* X;
        public float* W;
        public byte* Q;
        public float* Scales;
        public int N;
        public int Groups;
        public float Epsilon;
        public QuantizeSettings Settings;
        public bool Prefetch;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run(long first, long last)
        {
            int n = N;
            float[] rented = ArrayPool<float>.Shared.Rent(n);
            try
            {
                fixed (float* buffer = rented)
                {
                    for (long s = first; s < last; s++)
                    {
                        float* xs;
                        if (typeof(T) == typeof(float))
                        {
                            xs = (float*)X + s * n;
                        }
                        else
                        {
                            HostStorage.Widen<T, float, TConversions>(new ReadOnlySpan<T>(X + s * n, n), new Span<float>(buffer, n));
                            xs = buffer;
                        }

                        float* ws = W is null ? null : W + (s % Groups) * n;
                        float scale = Vector512.IsHardwareAccelerated
                            ? Segment<TFormat>(xs, ws, Q + s * n, buffer, n, Epsilon, Settings, Prefetch && typeof(T) == typeof(float))
                            : SegmentTensorPrimitives<TFormat>(CopyRow(xs, buffer, n), ws is null ? default : new ReadOnlySpan<float>(ws, n), new Span<byte>(Q + s * n, n), Epsilon, Settings);
                        if (Scales is not null)
                        {
                            Scales[s] = scale;
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        private static Span<float> CopyRow(float* x, float* buffer, int n)
        {
            if (x != buffer)
            {
                new ReadOnlySpan<float>(x, n).CopyTo(new Span<float>(buffer, n));
            }

            return new Span<float>(buffer, n);
        }
    }

    /// <summary>One row: Σx², the values and their maximum magnitude into <paramref name="v"/>, then the codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Segment<TFormat>(float* x, float* w, byte* q, float* v, int n, float epsilon, QuantizeSettings settings, bool prefetch)
        where TFormat : struct, IQuantFormat
    {
        TFormat format = default;
        float d = MathF.Sqrt(HostRows.SumOfSquares(new ReadOnlySpan<float>(x, n)) / n + epsilon);
        float amax = Values(x, w, v, n, d, settings.Clamp, prefetch);
        float scale = settings.StaticScale;
        if (scale == 0f)
        {
            scale = amax / format.QMax;
            scale = scale > format.MinScale ? scale : format.MinScale;
        }

        if (typeof(TFormat) == typeof(Int8Format))
        {
            EncodeInt8(v, q, n, scale);
        }
        else
        {
            EncodeFp8(v, q, n, scale);
        }

        return scale;
    }

    /// <summary>v = clamp((x / d) · w) (w may be null; x may be v); returns max |v|, NaN ignored. With
    /// <paramref name="prefetch"/> (float32 rows larger than the last-level cache), the next row of x is prefetched, so
    /// that its reads overlap this row's arithmetic.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Values(float* x, float* w, float* v, int n, float d, float clamp, bool prefetch)
    {
        int i = 0;
        var vd = Vector512.Create(d);
        var m0 = Vector512<float>.Zero;
        var m1 = Vector512<float>.Zero;
        bool clamping = float.IsFinite(clamp);
        var high = Vector512.Create(clamp);
        var low = Vector512.Create(-clamp);
        for (; i <= n - 32; i += 32)
        {
            if (prefetch)
            {
                Sse.Prefetch0(x + n + i); // a prefetch never faults
                Sse.Prefetch0(x + n + i + 16);
            }

            var a = Vector512.Load(x + i) / vd;
            var b = Vector512.Load(x + i + 16) / vd;
            if (w is not null)
            {
                a *= Vector512.Load(w + i);
                b *= Vector512.Load(w + i + 16);
            }

            if (clamping)
            {
                a = Clamp(a, high, low);
                b = Clamp(b, high, low);
            }

            a.Store(v + i);
            b.Store(v + i + 16);
            a = Vector512.Abs(a);
            b = Vector512.Abs(b);
            m0 = MaxIgnoringNaN(a, m0);
            m1 = MaxIgnoringNaN(b, m1);
        }

        m0 = Vector512.ConditionalSelect(Vector512.GreaterThan(m1, m0), m1, m0);
        float amax = 0f;
        for (int lane = 0; lane < Vector512<float>.Count; lane++)
        {
            float a = m0.GetElement(lane);
            amax = a > amax ? a : amax;
        }

        for (; i < n; i++)
        {
            float value = x[i] / d;
            value = RmsNormQuantKernel.Clamp(w is null ? value : value * w[i], clamp);
            v[i] = value;
            float a = Math.Abs(value);
            amax = a > amax ? a : amax;
        }

        return amax;
    }

    /// <summary>a &gt; m ? a : m, lane by lane (a NaN in <paramref name="a"/> keeps m): one vmaxps, which returns its second
    /// operand when either is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaxIgnoringNaN(Vector512<float> a, Vector512<float> m) =>
        Avx512F.IsSupported ? Avx512F.Max(a, m) : Vector512.ConditionalSelect(Vector512.GreaterThan(a, m), a, m);

    /// <summary><see cref="RmsNormQuantKernel.Clamp"/> on 16 lanes (NaN passes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Clamp(Vector512<float> v, Vector512<float> high, Vector512<float> low)
    {
        v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, high), high, v);
        return Vector512.ConditionalSelect(Vector512.LessThan(v, low), low, v);
    }

    /// <summary><see cref="Int8Format.Encode"/> on 16 lanes: clamp to ±127 (NaN passes), round to nearest even, NaN → 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Int8Codes(Vector512<float> scaled)
    {
        Vector512<float> c;
        if (Avx512F.IsSupported)
        {
            // vminps/vmaxps return the second operand for a NaN: the NaN becomes 127 here and 0 below.
            c = Avx512F.Max(Avx512F.Min(scaled, Vector512.Create(127f)), Vector512.Create(-127f));
        }
        else
        {
            c = Vector512.ConditionalSelect(Vector512.GreaterThan(scaled, Vector512.Create(127f)), Vector512.Create(127f), scaled);
            c = Vector512.ConditionalSelect(Vector512.LessThan(c, Vector512.Create(-127f)), Vector512.Create(-127f), c);
        }

        var code = (c + Vector512.Create(RoundingMagic)).AsInt32() - Vector512.Create(0x4B40_0000);
        return code & Vector512.Equals(scaled, scaled).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void EncodeInt8(float* v, byte* q, int n, float scale)
    {
        int i = 0;
        var vs = Vector512.Create(scale);
        if (Avx512F.IsSupported)
        {
            // vminps/vmaxps return their second operand when either is NaN, so a NaN survives both clamps; vcvtps2dq
            // rounds to nearest even (the default MXCSR mode) and turns NaN into 0x8000_0000, whose low byte, all that
            // vpmovdb keeps, is 0: Int8Format.Encode in five instructions.
            var high = Vector512.Create(127f);
            var low = Vector512.Create(-127f);
            for (; i <= n - 32; i += 32)
            {
                var a = Avx512F.Max(low, Avx512F.Min(high, Vector512.Load(v + i) / vs));
                var b = Avx512F.Max(low, Avx512F.Min(high, Vector512.Load(v + i + 16) / vs));
                Avx512F.ConvertToVector128SByte(Avx512F.ConvertToVector512Int32(a)).Store((sbyte*)q + i);
                Avx512F.ConvertToVector128SByte(Avx512F.ConvertToVector512Int32(b)).Store((sbyte*)q + i + 16);
            }
        }

        for (; i <= n - 16; i += 16)
        {
            var a = Vector512.Narrow(Int8Codes(Vector512.Load(v + i) / vs), Vector512<int>.Zero);
            Vector512.Narrow(a, a).AsByte().GetLower().GetLower().Store(q + i);
        }

        Int8Format format = default;
        for (; i < n; i++)
        {
            q[i] = format.Encode(v[i] / scale);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void EncodeFp8(float* v, byte* q, int n, float scale)
    {
        int i = 0;
        var vs = Vector512.Create(scale);
        for (; i <= n - 64; i += 64)
        {
            var a = HostQuantizeFp8Vectors.Encode16(Vector512.Load(v + i) / vs);
            var b = HostQuantizeFp8Vectors.Encode16(Vector512.Load(v + i + 16) / vs);
            var c = HostQuantizeFp8Vectors.Encode16(Vector512.Load(v + i + 32) / vs);
            var e = HostQuantizeFp8Vectors.Encode16(Vector512.Load(v + i + 48) / vs);
            Vector512.Narrow(Vector512.Narrow(a, b), Vector512.Narrow(c, e)).Store(q + i);
        }

        for (; i <= n - 16; i += 16)
        {
            var a = Vector512.Narrow(HostQuantizeFp8Vectors.Encode16(Vector512.Load(v + i) / vs), Vector512<uint>.Zero);
            Vector512.Narrow(a, a).GetLower().GetLower().Store(q + i);
        }

        for (; i < n; i++)
        {
            q[i] = Fp8E4M3.Encode(v[i] / scale);
        }
    }

    /// <summary>Without Vector512: the row (in <paramref name="v"/>, overwritten) through TensorPrimitives passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SegmentTensorPrimitives<TFormat>(Span<float> v, ReadOnlySpan<float> w, Span<byte> q, float epsilon, QuantizeSettings settings)
        where TFormat : struct, IQuantFormat
    {
        TFormat format = default;
        float d = MathF.Sqrt(HostRows.SumOfSquares(v) / v.Length + epsilon);
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
