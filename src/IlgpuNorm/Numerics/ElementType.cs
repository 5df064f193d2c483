namespace IlgpuNorm;

/// <summary>The element types IlgpuNorm computes on.</summary>
public enum ElementType
{
    /// <summary>IEEE float32 (<see cref="float"/>, NumPy <c>&lt;f4</c>).</summary>
    Float32,

    /// <summary>IEEE float16 (<see cref="System.Half"/> on the host, <see cref="ILGPU.Half"/> on devices, NumPy <c>&lt;f2</c>).</summary>
    Float16,

    /// <summary>bfloat16 (<see cref="BFloat16"/>; NumPy <c>&lt;u2</c> bits).</summary>
    BFloat16,

    /// <summary>IEEE float64 (<see cref="double"/>, NumPy <c>&lt;f8</c>); all math in float64.</summary>
    Float64,
}
