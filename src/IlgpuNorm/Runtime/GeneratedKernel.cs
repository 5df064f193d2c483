namespace IlgpuNorm;

/// <summary>The generated code of one kernel.</summary>
/// <param name="Type">The dtype it normalizes.</param>
/// <param name="VectorWidth">Elements each thread loads and stores at once (1: the scalar kernel).</param>
/// <param name="Code">PTX or OpenCL C.</param>
public sealed record GeneratedKernel(ElementType Type, int VectorWidth, string Code)
{
    /// <summary>
    /// The operation: <c>rms_norm</c> (the forward kernel, with the fused add, the policies and strided rows),
    /// <c>rms_norm_quant_int8</c>, <c>rms_norm_quant_fp8</c>, <c>rms_norm_backward</c> (dx and the dweight partial rows)
    /// or <c>rms_norm_backward_dweight</c> (the sum of the partial rows).
    /// </summary>
    public string Operation { get; init; } = "rms_norm";

    /// <summary>A file-friendly name such as <c>rms_norm.f32.v4</c>, <c>rms_norm.bf16.scalar</c> or <c>rms_norm_backward.f16.scalar</c>.</summary>
    public string Name => $"{Operation}.{ElementTypes.ShortName(Type)}.{(VectorWidth == 1 ? "scalar" : $"v{VectorWidth}")}";
}
