namespace IlgpuNorm;

/// <summary>What one launch of the rms_norm kernel does beyond the plain norm; strides in elements, 0 for contiguous rows.</summary>
/// <param name="HasWeight">Multiply by the weight.</param>
internal readonly record struct KernelLaunch(bool HasWeight)
{
    /// <summary>Add the bias after the weight.</summary>
    public bool HasBias { get; init; }

    /// <summary>The fused residual add (residual updated in place).</summary>
    public bool HasResidual { get; init; }

    /// <summary>The policy as the kernel's integer (<see cref="Kernels.RmsNormKernelParams.Policy"/>).</summary>
    public int Policy { get; init; }

    /// <summary>Added to each weight element in float32.</summary>
    public float WeightOffset { get; init; }

    /// <summary>Elements between input row starts; 0 for the normalized length.</summary>
    public long InputRowStride { get; init; }

    /// <summary>Elements between output row starts; 0 for the normalized length.</summary>
    public long OutputRowStride { get; init; }

    /// <summary>Elements between residual row starts; 0 for the normalized length.</summary>
    public long ResidualRowStride { get; init; }
}
