using IlgpuNorm.Benchmarking;

namespace IlgpuNorm.Cli.Bench;

/// <summary>A backend to measure: the device, its ILGPU kernels (null for the host path), and the shapes it runs.</summary>
/// <param name="Device">The device.</param>
/// <param name="Kernels">The device's kernels; null for the host path.</param>
/// <param name="Shapes">The shapes to measure on it.</param>
internal sealed record BenchBackend(DeviceInfo Device, RmsNormKernels? Kernels, IReadOnlyList<BenchShape> Shapes);
