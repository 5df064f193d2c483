namespace IlgpuNorm.Kernels;

/// <summary>A float64 sum with its running rounding error (Neumaier's variant of Kahan summation).</summary>
/// <param name="Sum">The rounded sum.</param>
/// <param name="Error">The accumulated rounding error of <paramref name="Sum"/>.</param>
internal readonly record struct CompensatedSum(double Sum, double Error)
{
    /// <summary>The compensated value; ±Inf and NaN sums are returned as they are.</summary>
    public double Value => Sum - Sum == 0 ? Sum + Error : Sum;

    /// <summary>Adds a term, keeping the rounding error of the addition (none once the sum is ±Inf or NaN).</summary>
    /// <remarks>
    /// No early return for the non-finite case: with one, PoCL 6.0 (Debian 13, LLVM 18) aborts the process while
    /// compiling the float64 kernel ("LLVM ERROR: Instruction Combining did not reach a fixpoint").
    /// </remarks>
    public CompensatedSum Add(double term)
    {
        double t = Sum + term;
        double error = Math.Abs(Sum) >= Math.Abs(term) ? (Sum - t) + term : (term - t) + Sum;
        return new CompensatedSum(t, t - t == 0 ? Error + error : 0);
    }
}

/// <summary>
/// A float32 sum with its running rounding error (Neumaier), the kernels' accumulator for float32, float16 and
/// bfloat16: still float32 arithmetic, as the policy says, without the few units of 2^-24 that a plain float32
/// sum loses when one large square dominates a row (and with no need for float64 on the device).
/// </summary>
/// <param name="Sum">The rounded sum.</param>
/// <param name="Error">The accumulated rounding error of <paramref name="Sum"/>.</param>
internal readonly record struct CompensatedSingle(float Sum, float Error)
{
    /// <summary>The compensated value; ±Inf and NaN sums are returned as they are.</summary>
    public float Value => Sum - Sum == 0 ? Sum + Error : Sum;

    /// <summary>Adds a term, keeping the rounding error of the addition (none once the sum is ±Inf or NaN); branch-free, see <see cref="CompensatedSum.Add"/>.</summary>
    public CompensatedSingle Add(float term)
    {
        float t = Sum + term;
        float error = MathF.Abs(Sum) >= MathF.Abs(term) ? (Sum - t) + term : (term - t) + Sum;
        return new CompensatedSingle(t, t - t == 0 ? Error + error : 0);
    }
}
