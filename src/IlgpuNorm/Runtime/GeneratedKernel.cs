namespace IlgpuNorm;

/// <summary>The generated code of one kernel.</summary>
/// <param name="Type">The dtype it normalizes.</param>
/// <param name="VectorWidth">Elements each thread loads and stores at once (1: the scalar kernel).</param>
/// <param name="Code">PTX or OpenCL C.</param>
public sealed record GeneratedKernel(ElementType Type, int VectorWidth, string Code)
{
    /// <summary>A file-friendly name such as <c>rms_norm.f32.v4</c> or <c>rms_norm.bf16.scalar</c>.</summary>
    public string Name => $"rms_norm.{ElementTypes.ShortName(Type)}.{(VectorWidth == 1 ? "scalar" : $"v{VectorWidth}")}";
}
