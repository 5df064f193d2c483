using ILGPU;

namespace IlgpuNorm.Kernels;

/// <summary>
/// The dynamic shared memory of a group's accumulators, requested in the primitive type that
/// <see cref="IRmsCodec{T, TAcc}.SharedPartials"/> reads it as: floats for float accumulators, doubles for
/// <see cref="CompensatedSum"/>.
/// </summary>
/// <remarks>
/// Request and view must name the same primitive type because of two ILGPU 1.5.3 behaviours. Its OpenCL backend
/// computes the length of a dynamic shared-memory view as the byte length divided by the element size cast to
/// the element type: <c>(float)4</c> for float, but <c>()16</c>, which no OpenCL compiler accepts, for a struct.
/// Its CPU accelerator sizes dynamic shared memory in elements of the type the kernel asks for, not in bytes.
/// </remarks>
internal static class AccumulatorMemory
{
    /// <summary>Shared memory for <paramref name="count"/> accumulators.</summary>
    /// <param name="count">Accumulators (one per thread of the group).</param>
    /// <returns>The request for the kernel configuration.</returns>
    public static unsafe SharedMemoryConfig Request<TAcc>(int count)
        where TAcc : unmanaged
    {
        if (typeof(TAcc) == typeof(float))
        {
            return SharedMemoryConfig.RequestDynamic<float>(count);
        }

        if (typeof(TAcc) == typeof(CompensatedSum))
        {
            return SharedMemoryConfig.RequestDynamic<double>(count * (sizeof(CompensatedSum) / sizeof(double)));
        }

        throw new NotSupportedException($"No shared-memory layout for accumulator type {typeof(TAcc).Name}.");
    }
}
