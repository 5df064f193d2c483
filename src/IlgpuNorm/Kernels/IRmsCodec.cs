using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// The per-dtype arithmetic of the rms_norm kernel: how a stored element widens to the
/// accumulator type, and how a result is rounded back under the numerics policy.
/// Implementations are empty structs so ILGPU inlines them into each kernel instance.
/// </summary>
/// <typeparam name="T">The storage type (float, double, or ushort bits for float16/bfloat16).</typeparam>
/// <typeparam name="TAcc">The accumulator type (float, or a compensated double sum for float64).</typeparam>
internal interface IRmsCodec<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
{
    /// <summary>acc + widen(x)².</summary>
    TAcc AddSquare(TAcc acc, T x);

    /// <summary>a + b.</summary>
    TAcc Add(TAcc a, TAcc b);

    /// <summary>sqrt(sumOfSquares / n + eps).</summary>
    TAcc Denominator(TAcc sumOfSquares, int n, double epsilon);

    /// <summary>(T)(widen(x) / denominator).</summary>
    T Normalize(T x, TAcc denominator);

    /// <summary>(T)((T)(widen(x) / denominator) * weight), each product rounded to T.</summary>
    T NormalizeScale(T x, TAcc denominator, T weight);

    /// <summary>The group's dynamic shared memory as accumulators (the launcher requests it in <typeparamref name="TAcc"/>).</summary>
    /// <remarks>
    /// ILGPU 1.5.3's OpenCL backend computes the view's length as the byte length divided by the element size
    /// cast to the element type: <c>(float)4</c> for float, but <c>()16</c>, a syntax error, for a struct such as
    /// <see cref="CompensatedSum"/>. A struct accumulator therefore takes the memory as its field type on OpenCL.
    /// </remarks>
    ArrayView<TAcc> SharedPartials();
}
