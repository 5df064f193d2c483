namespace IlgpuNorm;

/// <summary>The device the dispatcher chose, and why.</summary>
/// <param name="Device">The device.</param>
/// <param name="Reason">Why it was chosen (and what was skipped on the way).</param>
public sealed record DeviceSelection(DeviceInfo Device, string Reason);
