using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace IlgpuNorm.Kernels;

/// <summary>
/// Products that are rounded on their own on every backend. ILGPU 1.5.3 writes a float multiplication as PTX
/// <c>mul.f32</c> without a rounding suffix, and ptxas may then fuse it with the addition that uses it into one FMA (one
/// rounding instead of two: other bits than the host and OpenCL). <c>mul.rn</c> may not be fused. scripts/sass-check.sh
/// checks every kernel for such contractions.
/// </summary>
internal static class Rounded
{
    /// <summary>a · b, rounded to float32 before any later addition.</summary>
    public static float Mul(float a, float b)
    {
        // A switch: ILGPU folds a switch on CurrentType per backend (OpenCL ignores inline PTX, so it must not see it).
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float product, a, b);
                return product;
            case AcceleratorType.CPU:
                return a * b;
            case AcceleratorType.OpenCL:
                return a * b;
            default:
                return a * b;
        }
    }

    /// <summary>a · b, rounded to float64 before any later addition.</summary>
    public static double Mul(double a, double b)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                // As two 32-bit halves, one statement each: ptxas 11.8 leaves local-memory stores behind a 64-bit output of
                // inline PTX (and behind EmitRef's); it computes the product once.
                CudaAsm.Emit("{ .reg .f64 p; .reg .b32 h; mul.rn.f64 p, %1, %2; mov.b64 {%0, h}, p; }", out uint low, a, b);
                CudaAsm.Emit("{ .reg .f64 p; .reg .b32 l; mul.rn.f64 p, %1, %2; mov.b64 {l, %0}, p; }", out uint high, a, b);
                return Interop.IntAsFloat(((ulong)high << 32) | low);
            case AcceleratorType.CPU:
                return a * b;
            case AcceleratorType.OpenCL:
                return a * b;
            default:
                return a * b;
        }
    }
}
