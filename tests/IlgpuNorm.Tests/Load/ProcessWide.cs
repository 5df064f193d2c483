using Xunit;

namespace IlgpuNorm.Tests.Load;

/// <summary>Tests that measure the whole process: they run alone, after the parallel ones, so other tests' allocations do not count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWide
{
    public const string Name = "process-wide measurements";
}
