using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using IlgpuNorm.Planning;
using IlgpuNorm.Runtime;

namespace IlgpuNorm.Host;

/// <summary>
/// The host path of the extended forward pass: rounding policies, the weight offset, the bias, the fused residual add
/// and strided rows. Each segment is widened to the compute type (float32; float64 for float64) in a scratch row and
/// goes through the policy's steps with TensorPrimitives; the sum of squares and the denominator are those of
/// <see cref="HostRmsNorm"/>, so a fused call gives the same bits as the add followed by the plain norm.
/// </summary>
internal static class HostExtendedRmsNorm
{
    public static void Run<T>(scoped in ForwardRequest<T> call)
        where T : unmanaged
    {
        switch (call.Type)
        {
            case ElementType.Float32:
                Run<float, float, SingleOps>(call.Problem, call.Extras, Cast<T, float>(call.X), Cast<T, float>(call.Residual), Cast<T, float>(call.W), Cast<T, float>(call.B), Cast<T, float>(call.Y));
                break;
            case ElementType.Float16:
                Run<Half, float, HalfOps>(call.Problem, call.Extras, Cast<T, Half>(call.X), Cast<T, Half>(call.Residual), Cast<T, Half>(call.W), Cast<T, Half>(call.B), Cast<T, Half>(call.Y));
                break;
            case ElementType.BFloat16:
                Run<ushort, float, BFloat16Ops>(call.Problem, call.Extras, Cast<T, ushort>(call.X), Cast<T, ushort>(call.Residual), Cast<T, ushort>(call.W), Cast<T, ushort>(call.B), Cast<T, ushort>(call.Y));
                break;
            default:
                Run<double, double, DoubleOps>(call.Problem, call.Extras, Cast<T, double>(call.X), Cast<T, double>(call.Residual), Cast<T, double>(call.W), Cast<T, double>(call.B), Cast<T, double>(call.Y));
                break;
        }
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> span)
        where TFrom : unmanaged
        where TTo : unmanaged => MemoryMarshal.Cast<TFrom, TTo>(span);

    private static Span<TTo> Cast<TFrom, TTo>(Span<TFrom> span)
        where TFrom : unmanaged
        where TTo : unmanaged => MemoryMarshal.Cast<TFrom, TTo>(span);

    /// <summary>The per-call constants of the epilogue: the offset weight and the bias in the compute type.</summary>
    private readonly record struct Epilogue<TC>(RmsNormPolicy Policy, TC Epsilon, nint Weight, nint Bias, bool HasResidual);

    /// <summary>The segments [first, last) of one call (pinned pointers: the call returns only when every block is done).</summary>
    private readonly unsafe struct Segments<T, TC, TOps>(nint x, nint residual, nint y, int groups, int n, RmsNormExtras extras, Epilogue<TC> epilogue) : IBlockBody
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where TOps : IHostOps<T, TC>
    {
        public void Run(long first, long last)
        {
            for (long s = first; s < last; s++)
            {
                long row = s / groups;
                long inGroup = (s - row * groups) * n;
                var xs = new ReadOnlySpan<T>((T*)x + row * extras.InputRowStride + inGroup, n);
                var rs = epilogue.HasResidual ? new Span<T>((T*)residual + row * extras.ResidualRowStride + inGroup, n) : default;
                var ys = new Span<T>((T*)y + row * extras.OutputRowStride + inGroup, n);
                var ws = epilogue.Weight == 0 ? default : new ReadOnlySpan<TC>((TC*)epilogue.Weight + inGroup, n);
                var bs = epilogue.Bias == 0 ? default : new ReadOnlySpan<TC>((TC*)epilogue.Bias + inGroup, n);
                SegmentOf<T, TC, TOps>(xs, rs, ws, bs, ys, epilogue);
            }
        }
    }

    private static unsafe void Run<T, TC, TOps>(RmsNormProblem problem, RmsNormExtras extras, ReadOnlySpan<T> x, Span<T> residual, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where TOps : IHostOps<T, TC>
    {
        int n = problem.SegmentLength;
        int length = problem.NormalizedLength;
        TC[]? weight = w.IsEmpty ? null : ArrayPool<TC>.Shared.Rent(length);
        TC[]? bias = b.IsEmpty ? null : ArrayPool<TC>.Shared.Rent(length);
        try
        {
            if (weight is not null)
            {
                // w' = offset + w in the compute type; InputDtype uses it rounded to T.
                var ws = weight.AsSpan(0, length);
                TOps.Widen(w, ws);
                TensorPrimitives.Add(ws, TC.CreateTruncating(extras.WeightOffset), ws);
                if (extras.Policy == RmsNormPolicy.InputDtype)
                {
                    RoundTrip<T, TC, TOps>(ws);
                }
            }

            if (bias is not null)
            {
                TOps.Widen(b, bias.AsSpan(0, length));
            }

            fixed (T* px = x, pr = residual, py = y)
            fixed (TC* pw = weight, pb = bias)
            {
                var epilogue = new Epilogue<TC>(extras.Policy, TOps.Epsilon(problem.Epsilon), (nint)pw, (nint)pb, !residual.IsEmpty);
                var body = new Segments<T, TC, TOps>((nint)px, (nint)pr, (nint)py, problem.NumGroups, n, extras, epilogue);
                HostBlocks.For(problem.Segments, problem.TotalElements, body);
            }
        }
        finally
        {
            if (weight is not null)
            {
                ArrayPool<TC>.Shared.Return(weight);
            }

            if (bias is not null)
            {
                ArrayPool<TC>.Shared.Return(bias);
            }
        }
    }

    /// <summary>One segment, following <see cref="RmsNormPolicy"/> step by step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SegmentOf<T, TC, TOps>(ReadOnlySpan<T> xs, Span<T> rs, ReadOnlySpan<TC> ws, ReadOnlySpan<TC> bs, Span<T> ys, Epilogue<TC> e)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where TOps : IHostOps<T, TC>
    {
        if (TOps.IsComputeType && e.Policy != RmsNormPolicy.InputDtype)
        {
            DirectSegment(MemoryMarshal.Cast<T, TC>(xs), MemoryMarshal.Cast<T, TC>(rs), ws, bs, MemoryMarshal.Cast<T, TC>(ys), e);
            return;
        }

        int n = xs.Length;
        TC[] rented = ArrayPool<TC>.Shared.Rent(2 * n);
        Span<TC> a = rented.AsSpan(0, n);
        TOps.Widen(xs, a);
        if (e.HasResidual)
        {
            // residual = (T)(x + residual); the norm is of that rounded sum.
            Span<TC> r = rented.AsSpan(n, n);
            TOps.Widen(rs, r);
            TensorPrimitives.Add(a, r, a);
            TOps.Round(a, rs);
            TOps.Widen(rs, a);
        }

        TC d = TC.Sqrt((TOps.SumOfSquares(a) / TC.CreateTruncating(n)) + e.Epsilon);
        if (e.Policy == RmsNormPolicy.WeightInFloat32)
        {
            TensorPrimitives.Divide(a, d, a);
            if (!ws.IsEmpty)
            {
                TensorPrimitives.Multiply(a, ws, a);
            }

            if (!bs.IsEmpty)
            {
                TensorPrimitives.Add(a, bs, a);
            }

            TOps.Round(a, ys);
        }
        else
        {
            if (e.Policy == RmsNormPolicy.InputDtype)
            {
                Span<TC> rstd = [TC.One / d];
                RoundTrip<T, TC, TOps>(rstd);
                TensorPrimitives.Multiply(a, rstd[0], a);
            }
            else
            {
                TensorPrimitives.Divide(a, d, a);
            }

            TOps.Round(a, ys);
            if (!ws.IsEmpty)
            {
                TOps.Widen(ys, a);
                TensorPrimitives.Multiply(a, ws, a);
                TOps.Round(a, ys);
            }

            if (!bs.IsEmpty)
            {
                TOps.Widen(ys, a);
                TensorPrimitives.Add(a, bs, a);
                TOps.Round(a, ys);
            }
        }

        ArrayPool<TC>.Shared.Return(rented);
    }

    /// <summary>
    /// float32 and float64 under TensorRtLlm or WeightInFloat32 (the same operations when T is the compute type): no
    /// scratch row, each step straight from the source to the destination, as <see cref="HostRmsNorm"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DirectSegment<TC>(ReadOnlySpan<TC> xs, Span<TC> rs, ReadOnlySpan<TC> ws, ReadOnlySpan<TC> bs, Span<TC> ys, Epilogue<TC> e)
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ReadOnlySpan<TC> source = xs;
        TC sum;
        if (typeof(TC) == typeof(float) && e.HasResidual)
        {
            // One pass for the add and the squares; the same bits as the add followed by HostVectors.SumOfSquares.
            sum = (TC)(object)HostFusedVectors.AddAndSumOfSquares(MemoryMarshal.Cast<TC, float>(xs), MemoryMarshal.Cast<TC, float>(rs));
            source = rs;
        }
        else
        {
            if (e.HasResidual)
            {
                TensorPrimitives.Add(xs, rs, rs);
                source = rs;
            }

            sum = typeof(TC) == typeof(float)
                ? (TC)(object)HostVectors.SumOfSquares(MemoryMarshal.Cast<TC, float>(source))
                : (TC)(object)HostVectors.SumOfSquares(MemoryMarshal.Cast<TC, double>(source));
        }

        TC d = TC.Sqrt((sum / TC.CreateTruncating(source.Length)) + e.Epsilon);
        if (ws.IsEmpty)
        {
            TensorPrimitives.Divide(source, d, ys);
        }
        else
        {
            HostVectors.Normalize(source, d, ws, ys);
        }

        if (!bs.IsEmpty)
        {
            TensorPrimitives.Add(ys, bs, ys);
        }
    }

    /// <summary>Rounds compute-type values to T and back, in place (nothing for float32 and float64).</summary>
    private static void RoundTrip<T, TC, TOps>(Span<TC> values)
        where T : unmanaged
        where TC : unmanaged, IFloatingPointIeee754<TC>
        where TOps : IHostOps<T, TC>
    {
        if (TOps.IsComputeType)
        {
            return;
        }

        T[] rented = ArrayPool<T>.Shared.Rent(values.Length);
        var stored = rented.AsSpan(0, values.Length);
        TOps.Round(values, stored);
        TOps.Widen(stored, values);
        ArrayPool<T>.Shared.Return(rented);
    }

    /// <summary>A storage type's widening to and rounding from its compute type, and the sum of squares of <see cref="HostRmsNorm"/>.</summary>
    private interface IHostOps<T, TC>
        where T : unmanaged
        where TC : unmanaged
    {
        static abstract bool IsComputeType { get; }

        static abstract TC Epsilon(double epsilon);

        static abstract TC SumOfSquares(ReadOnlySpan<TC> values);

        static abstract void Widen(ReadOnlySpan<T> source, Span<TC> destination);

        static abstract void Round(ReadOnlySpan<TC> source, Span<T> destination);
    }

    private readonly struct SingleOps : IHostOps<float, float>
    {
        public static bool IsComputeType => true;

        public static float Epsilon(double epsilon) => (float)epsilon;

        public static float SumOfSquares(ReadOnlySpan<float> values) => HostVectors.SumOfSquares(values);

        public static void Widen(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);

        public static void Round(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
    }

    private readonly struct DoubleOps : IHostOps<double, double>
    {
        public static bool IsComputeType => true;

        public static double Epsilon(double epsilon) => epsilon;

        public static double SumOfSquares(ReadOnlySpan<double> values) => HostVectors.SumOfSquares(values);

        public static void Widen(ReadOnlySpan<double> source, Span<double> destination) => source.CopyTo(destination);

        public static void Round(ReadOnlySpan<double> source, Span<double> destination) => source.CopyTo(destination);
    }

    private readonly struct HalfOps : IHostOps<Half, float>
    {
        public static bool IsComputeType => false;

        public static float Epsilon(double epsilon) => (float)epsilon;

        public static float SumOfSquares(ReadOnlySpan<float> values) => HostVectors.SumOfSquares(values);

        public static void Widen(ReadOnlySpan<Half> source, Span<float> destination) => TensorPrimitives.ConvertToSingle(source, destination);

        public static void Round(ReadOnlySpan<float> source, Span<Half> destination) => TensorPrimitives.ConvertToHalf(source, destination);
    }

    private readonly struct BFloat16Ops : IHostOps<ushort, float>
    {
        public static bool IsComputeType => false;

        public static float Epsilon(double epsilon) => (float)epsilon;

        public static float SumOfSquares(ReadOnlySpan<float> values) => HostVectors.SumOfSquares(values);

        public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination) => HostSixteenBit.WidenBFloat16(source, destination);

        public static void Round(ReadOnlySpan<float> source, Span<ushort> destination) => HostSixteenBit.RoundBFloat16(source, destination);
    }
}
