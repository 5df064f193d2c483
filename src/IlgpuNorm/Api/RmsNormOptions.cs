namespace IlgpuNorm;

/// <summary>Options of an rms_norm call, named after TensorRT-LLM's arguments.</summary>
public sealed record RmsNormOptions
{
    /// <summary>The default eps, as in <c>tensorrt_llm.functional.rms_norm</c>: 1e-6.</summary>
    public const double DefaultEpsilon = 1e-6;

    /// <summary>Shared default options.</summary>
    public static RmsNormOptions Default { get; } = new();

    /// <summary><c>eps</c>: added to the mean of squares before the square root. Finite and &gt;= 0. Rounded to float32 for float32/float16/bfloat16 inputs.</summary>
    public double Epsilon { get; init; } = DefaultEpsilon;

    /// <summary><c>num_groups</c>: split the single normalized dimension C into this many groups of C/num_groups consecutive elements, each normalized on its own.</summary>
    public int NumGroups { get; init; } = 1;

    /// <summary>Where the result is rounded to the input dtype; <see cref="RmsNormPolicy.TensorRtLlm"/> (the original behaviour) by default.</summary>
    public RmsNormPolicy Policy { get; init; } = RmsNormPolicy.TensorRtLlm;

    /// <summary>
    /// Added to every weight element in float32 before it multiplies: Gemma's <c>y * (1 + w)</c> is 1. Default 0; finite;
    /// needs a weight (an offset without a weight is an error).
    /// </summary>
    public float WeightOffset { get; init; }

    /// <summary>The device to run on. <see langword="null"/> means the <c>ILGPUNORM_DEVICE</c> environment variable if set, else <see cref="DeviceKind.Auto"/>.</summary>
    public DeviceRequest? Device { get; init; }
}
