namespace IlgpuNorm.Kernels;

/// <summary>acc + widen(x)² (<see cref="IRmsCodec{T, TAcc}.AddSquare"/>), folded over a packet's lanes in order.</summary>
internal readonly struct SquareFold<T, TAcc, TCodec> : ILaneFold<T, TAcc>
    where T : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<T, TAcc>
{
    public TAcc Apply(TAcc acc, T x) => default(TCodec).AddSquare(acc, x);
}

/// <summary>The fused residual add, (T)(x + residual), with the residual in the second operand.</summary>
internal readonly struct ResidualAddMap<T, TAcc, TCodec> : ILaneMap<T>
    where T : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<T, TAcc>
{
    public T Apply(T x, T w, T b) => default(TCodec).AddResidual(x, w);
}

/// <summary>
/// The plain epilogue: (T)(x / d), times the weight and rounded again, (T)((T)(x / d) · w), when <c>hasWeight</c> is 1
/// (a constant at each use, folded by ILGPU, so each variant is a loop of its own).
/// </summary>
internal readonly struct NormalizeMap<T, TAcc, TCodec>(TAcc denominator, int hasWeight) : ILaneMap<T>
    where T : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<T, TAcc>
{
    public T Apply(T x, T w, T b) => default(TCodec).Normalize(x, denominator, w, hasWeight);
}

/// <summary>The epilogue under a policy, with the weight offset and the bias (<see cref="IRmsCodec{T, TAcc}.Apply{TSteps}"/>).</summary>
internal readonly struct PolicyMap<T, TAcc, TCodec, TSteps>(TAcc scale, int hasWeight, int hasBias, float offset) : ILaneMap<T>
    where T : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<T, TAcc>
    where TSteps : struct, IRmsPolicySteps
{
    public T Apply(T x, T w, T b) => default(TCodec).Apply<TSteps>(x, scale, w, b, hasWeight, hasBias, offset);
}

/// <summary>The sum tree's step: <see cref="IRmsCodec{T, TAcc}.Add"/>.</summary>
internal readonly struct CodecSum<T, TAcc, TCodec> : ITreeOp<TAcc>
    where T : unmanaged
    where TAcc : unmanaged
    where TCodec : struct, IRmsCodec<T, TAcc>
{
    public TAcc Combine(TAcc mine, TAcc other) => default(TCodec).Add(mine, other);
}
