namespace IlgpuNorm.Runtime;

/// <summary>
/// A device that runs validated requests on host spans, one method per operation. Each writes the request's outputs
/// only after the whole result exists (and never the elements between strided rows).
/// </summary>
internal interface IComputeBackend : IDisposable
{
    DeviceInfo Info { get; }

    /// <summary>The forward rms_norm, plain or extended (the backend chooses its fast path from the request).</summary>
    void Forward<T>(scoped in ForwardRequest<T> request)
        where T : unmanaged;

    /// <summary>rms_norm quantized to 8 bits.</summary>
    /// <exception cref="NotSupportedException">The backend does not implement it (the default).</exception>
    void Quantize<T>(scoped in QuantizeRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the quantized rms_norm.");

    /// <summary>The backward pass.</summary>
    /// <exception cref="NotSupportedException">The backend does not implement it (the default).</exception>
    void Backward<T>(scoped in BackwardRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm backward pass.");

    /// <summary>The per-segment 1/rms.</summary>
    /// <exception cref="NotSupportedException">The backend does not implement it (the default).</exception>
    void Rstd<T>(scoped in RstdRequest<T> request)
        where T : unmanaged =>
        throw new NotSupportedException($"{Info.Name} does not implement the rms_norm statistics.");
}
