namespace IlgpuNorm.Benchmarking;

/// <summary>What <see cref="Timing.Measure"/> found.</summary>
/// <param name="MedianSeconds">The median seconds per call.</param>
/// <param name="Calls">Calls timed.</param>
/// <param name="Samples">Timed batches.</param>
public readonly record struct TimingResult(double MedianSeconds, long Calls, int Samples);
