namespace IlgpuNorm.Kernels;

/// <summary>
/// The per-dtype arithmetic of the rms_norm backward pass: stored elements widen to the math type <typeparamref name="TF"/>
/// (float32 for float32, float16 and bfloat16; float64 for float64) and results round back once.
/// Empty structs, so ILGPU inlines them; the host path uses them too.
/// </summary>
/// <typeparam name="T">The storage type.</typeparam>
/// <typeparam name="TF">The math type.</typeparam>
internal interface IBackwardCodec<T, TF>
    where T : unmanaged
    where TF : unmanaged
{
    TF Load(T x);

    /// <summary>Rounds to the storage type, to nearest even.</summary>
    T Store(TF v);

    TF Add(TF a, TF b);

    /// <summary>a · b, never fused with a later addition (<see cref="Rounded"/>).</summary>
    TF Mul(TF a, TF b);

    TF Sub(TF a, TF b);

    /// <summary>1 / sqrt(sumOfSquares / n + eps) (eps rounded to float32 for the float32 math type).</summary>
    TF Rstd(TF sumOfSquares, int n, double epsilon);

    TF Mean(TF sum, int n);

    TF FromSingle(float v);

    float ToSingle(TF v);
}

/// <summary>float32 math over a storage format (float32 itself, float16 or bfloat16 bits).</summary>
internal readonly struct SingleBackwardCodec<TS, TFormat> : IBackwardCodec<TS, float>
    where TS : unmanaged
    where TFormat : struct, IStorageFormat<TS>
{
    public float Load(TS x) => default(TFormat).ToSingle(x);

    public TS Store(float v) => default(TFormat).FromSingle(v);

    public float Add(float a, float b) => a + b;

    public float Mul(float a, float b) => Rounded.Mul(a, b);

    public float Sub(float a, float b) => a - b;

    public float Rstd(float sumOfSquares, int n, double epsilon) => 1f / MathF.Sqrt(sumOfSquares / n + (float)epsilon);

    public float Mean(float sum, int n) => sum / n;

    public float FromSingle(float v) => v;

    public float ToSingle(float v) => v;
}

/// <summary>float64 with float64 math.</summary>
internal readonly struct Float64BackwardCodec : IBackwardCodec<double, double>
{
    public double Load(double x) => x;

    public double Store(double v) => v;

    public double Add(double a, double b) => a + b;

    public double Mul(double a, double b) => Rounded.Mul(a, b);

    public double Sub(double a, double b) => a - b;

    public double Rstd(double sumOfSquares, int n, double epsilon) => 1.0 / Math.Sqrt(sumOfSquares / n + epsilon);

    public double Mean(double sum, int n) => sum / n;

    public double FromSingle(float v) => v;

    public float ToSingle(double v) => (float)v;
}
