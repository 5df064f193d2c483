namespace IlgpuNorm.Benchmarking;

/// <summary>
/// The copy limit of one backend for one byte count, measured in the same run on the same buffers: x's bytes read, y's bytes written.
/// </summary>
/// <param name="Gbps">The copy limit: on the host the better of <paramref name="SingleThreadGbps"/> and <paramref name="ParallelGbps"/>.</param>
/// <param name="Method">How it was measured, for the report.</param>
/// <param name="SingleThreadGbps">Host only: one thread, <c>Span.CopyTo</c>.</param>
/// <param name="ParallelGbps">Host only: <c>Parallel.For</c> over <paramref name="Threads"/> contiguous parts.</param>
/// <param name="Threads">Host only: the parts of the parallel copy (one per core).</param>
public sealed record CopyMeasurement(double Gbps, string Method, double? SingleThreadGbps = null, double? ParallelGbps = null, int? Threads = null);
