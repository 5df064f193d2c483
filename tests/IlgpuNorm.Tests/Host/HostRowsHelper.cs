using System.Numerics;
using System.Runtime.Intrinsics;
using IlgpuNorm.Host;

namespace IlgpuNorm.Tests;

/// <summary>The host drivers over spans, for tests that hold one path against another bit for bit.</summary>
internal static unsafe class HostRowsHelper
{
    /// <summary>The plain forward row map: y = (T)(x / d), then with a weight y = (T)(y · w).</summary>
    public static void Normalize<T, TC, S>(ReadOnlySpan<T> x, TC d, ReadOnlySpan<TC> w, Span<T> y, bool streaming = false)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where S : IStorage<T, TC>
    {
        fixed (T* px = x, py = y)
        fixed (TC* pw = w)
        {
            if (w.IsEmpty)
            {
                var op = new NormOp<T, TC, S, PlainRow>(px, null, null, d, default);
                HostRows.Map<T, TC, S, NormOp<T, TC, S, PlainRow>>(ref op, py, x.Length, streaming ? RowTraffic.Streamed : RowTraffic.Cached);
            }
            else
            {
                var op = new NormOp<T, TC, S, WeightedRow>(px, pw, null, d, default);
                HostRows.Map<T, TC, S, NormOp<T, TC, S, WeightedRow>>(ref op, py, x.Length, streaming ? RowTraffic.Streamed : RowTraffic.Cached);
            }
        }
    }

    /// <summary>
    /// The same map in even/odd blocks (<see cref="HostRows.MapEvenOdd"/>): the 16-bit weight <paramref name="w"/> widened
    /// into the even/odd layout; x's length a multiple of <see cref="HostRows.PairBlock"/>, y 64-byte aligned when streaming.
    /// </summary>
    /// <summary>
    /// <see cref="NormalizeEvenOdd{S}"/> of x (finite rows: on magnitudes for a <see cref="IStorage{T, TC}.SignApart"/>
    /// storage) that also sums the squares of <paramref name="next"/> in its loop: that row's Σ x² as the storage finishes it
    /// (<see cref="IStorage{T, TC}.SquaresSum"/>). x and next of the same length, a multiple of <see cref="HostRows.PairBlock"/>.
    /// </summary>
    public static float NormalizeEvenOddSummingNext<S>(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<ushort> w, Span<ushort> y, ReadOnlySpan<ushort> next)
        where S : IStorage<ushort, float>
    {
        var wide = new float[w.Length];
        HostStorage.WidenEvenOdd<ushort, float, S>(w, wide);
        fixed (ushort* px = x, py = y, pb = w, pn = next)
        fixed (float* pw = wide)
        {
            var op = new NormOp<ushort, float, S, WeightedRow>(px, pw, null, d, default, pb);
            double squares = HostRows.MapEvenOdd<ushort, float, S, NormOp<ushort, float, S, WeightedRow>>(ref op, py, x.Length, RowTraffic.Cached, S.SignApart, pn);
            return S.SquaresSum(squares, pn, next.Length);
        }
    }

    /// <remarks>With <paramref name="signApart"/>: the blocks computed on magnitudes, the signs applied to the patterns
    /// (a <see cref="IStorage{T, TC}.SignApart"/> storage; d · its magnitude scale a float32 normal).</remarks>
    public static void NormalizeEvenOdd<S>(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<ushort> w, Span<ushort> y, bool streaming, bool signApart = false)
        where S : IStorage<ushort, float>
    {
        var wide = new float[w.Length];
        HostStorage.WidenEvenOdd<ushort, float, S>(w, wide);
        var traffic = streaming ? RowTraffic.Streamed : RowTraffic.Cached;
        fixed (ushort* px = x, py = y, pb = w)
        fixed (float* pw = wide)
        {
            if (w.IsEmpty)
            {
                var op = new NormOp<ushort, float, S, PlainRow>(px, null, null, d, default);
                HostRows.MapEvenOdd<ushort, float, S, NormOp<ushort, float, S, PlainRow>>(ref op, py, x.Length, traffic, signApart);
            }
            else
            {
                var op = new NormOp<ushort, float, S, WeightedRow>(px, pw, null, d, default, pb);
                HostRows.MapEvenOdd<ushort, float, S, NormOp<ushort, float, S, WeightedRow>>(ref op, py, x.Length, traffic, signApart);
            }
        }
    }

    /// <summary>
    /// The plain map on magnitudes with the signs apart (<see cref="HostRows.MapSignApart"/>): w is the weight widened
    /// (null: none), <paramref name="wBits"/> its stored patterns; streaming: the traffic of a call from memory.
    /// </summary>
    public static void NormalizeSignApart<S>(ReadOnlySpan<ushort> x, float d, ReadOnlySpan<float> w, ReadOnlySpan<ushort> wBits, Span<ushort> y, bool streaming)
        where S : IStorage<ushort, float>
    {
        var traffic = streaming ? RowTraffic.Streamed : RowTraffic.Cached;
        fixed (ushort* px = x, py = y, pb = wBits)
        fixed (float* pw = w)
        {
            if (w.IsEmpty)
            {
                var op = new NormOp<ushort, float, S, PlainRow>(px, null, null, d, default);
                HostRows.MapSignApart<ushort, float, S, NormOp<ushort, float, S, PlainRow>>(ref op, py, x.Length, traffic);
            }
            else
            {
                var op = new NormOp<ushort, float, S, WeightedRow>(px, pw, null, d, default, pb);
                HostRows.MapSignApart<ushort, float, S, NormOp<ushort, float, S, WeightedRow>>(ref op, py, x.Length, traffic);
            }
        }
    }

    /// <summary>S's <see cref="IStorage{T, TC}.MagnitudeBits(Vector512{TC})"/> over whole vectors (Vector512 where
    /// accelerated, else Vector256); the length a multiple of 16.</summary>
    public static void MagnitudeBits<S>(ReadOnlySpan<float> source, Span<ushort> destination)
        where S : IStorage<ushort, float>
    {
        for (int i = 0; i < source.Length; i += 16)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                S.MagnitudeBits(Vector512.Create(source.Slice(i, 16))).CopyTo(destination.Slice(i, 16));
            }
            else
            {
                S.MagnitudeBits(Vector256.Create(source.Slice(i, 8)), Vector256.Create(source.Slice(i + 8, 8))).CopyTo(destination.Slice(i, 16));
            }
        }
    }

    /// <summary>S's <see cref="IStorage{T, TC}.MagnitudeBitsEvenOdd(Vector512{TC}, Vector512{TC})"/> over blocks of 32
    /// values (Vector512 where accelerated, else two Vector256 blocks of 16), each block's first half as its even lanes and
    /// its second half as its odd ones: every value's pattern at its own index.</summary>
    public static void MagnitudeBitsEvenOdd<S>(ReadOnlySpan<float> source, Span<ushort> destination)
        where S : IStorage<ushort, float>
    {
        int half = Vector512.IsHardwareAccelerated ? 16 : 8;
        for (int i = 0; i < source.Length; i += 2 * half)
        {
            var block = new uint[half];
            if (Vector512.IsHardwareAccelerated)
            {
                S.MagnitudeBitsEvenOdd(Vector512.Create(source.Slice(i, half)), Vector512.Create(source.Slice(i + half, half))).CopyTo(block);
            }
            else
            {
                S.MagnitudeBitsEvenOdd(Vector256.Create(source.Slice(i, half)), Vector256.Create(source.Slice(i + half, half))).CopyTo(block);
            }

            for (int l = 0; l < half; l++)
            {
                destination[i + l] = (ushort)block[l];
                destination[i + half + l] = (ushort)(block[l] >> 16);
            }
        }
    }

    /// <summary>S's <see cref="IStorage{T, TC}.QuantizeMagnitude(Vector512{TC})"/> in place, whole vectors as
    /// <see cref="MagnitudeBits{S}"/>.</summary>
    public static void QuantizeMagnitude<S>(Span<float> values)
        where S : IStorage<ushort, float>
    {
        for (int i = 0; i < values.Length; i += 16)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                S.QuantizeMagnitude(Vector512.Create(values.Slice(i, 16))).CopyTo(values.Slice(i, 16));
            }
            else
            {
                S.QuantizeMagnitude(Vector256.Create(values.Slice(i, 8))).CopyTo(values.Slice(i, 8));
                S.QuantizeMagnitude(Vector256.Create(values.Slice(i + 8, 8))).CopyTo(values.Slice(i + 8, 8));
            }
        }
    }

    /// <summary>S's <see cref="IStorage{T, TC}.Magnitude(Vector256{ushort})"/>, whole vectors as <see cref="MagnitudeBits{S}"/>.</summary>
    public static void Magnitude<S>(ReadOnlySpan<ushort> source, Span<float> destination)
        where S : IStorage<ushort, float>
    {
        for (int i = 0; i < source.Length; i += 16)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                S.Magnitude(Vector256.Create(source.Slice(i, 16))).CopyTo(destination.Slice(i, 16));
            }
            else
            {
                S.Magnitude(Vector128.Create(source.Slice(i, 8))).CopyTo(destination.Slice(i, 8));
                S.Magnitude(Vector128.Create(source.Slice(i + 8, 8))).CopyTo(destination.Slice(i + 8, 8));
            }
        }
    }

    /// <summary>Σ x² of a 16-bit row, widened in registers.</summary>
    public static float SumOfSquares<S>(ReadOnlySpan<ushort> x)
        where S : IStorage<ushort, float>
    {
        fixed (ushort* p = x)
        {
            var load = new RowLoad<ushort, float, S>(p);
            return S.SumOfSquares(ref load, x.Length);
        }
    }

    /// <summary>residual = x + residual and Σ residual² in one pass.</summary>
    public static float AddAndSumOfSquares(ReadOnlySpan<float> x, Span<float> residual)
    {
        fixed (float* px = x, pr = residual)
        {
            var load = new ResidualLoad<float, float, Float32Storage>(px, pr);
            return HostRows.SumOfSquares(ref load, x.Length);
        }
    }

    /// <summary>The two-row pipeline over rows [first, last).</summary>
    public static void Pipeline(float[] x, float[] w, float[] y, int n, int groups, long first, long last, float epsilon)
    {
        fixed (float* px = x, pw = w, py = y)
        {
            HostForward.Pipeline(px, w.Length == 0 ? null : pw, py, n, groups, first, last, epsilon);
        }
    }

    /// <summary>The storage's in-register rounding to its precision, on every width this machine has (tail: one element).</summary>
    public static void Quantize<S>(ReadOnlySpan<float> source, Span<float> destination)
        where S : IStorage<ushort, float>
    {
        fixed (float* x = source, y = destination)
        {
            int n = source.Length, half = n / 2, i = 0;
            for (; Vector512.IsHardwareAccelerated && i <= half - 16; i += 16)
            {
                S.Quantize(Vector512.Load(x + i)).Store(y + i);
            }

            for (; Vector256.IsHardwareAccelerated && i <= n - 8; i += 8)
            {
                S.Quantize(Vector256.Load(x + i)).Store(y + i);
            }

            for (; i < n; i++)
            {
                y[i] = S.Widen(S.Narrow(x[i]));
            }
        }
    }
}
