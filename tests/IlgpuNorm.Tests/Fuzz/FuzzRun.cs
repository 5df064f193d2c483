using CsCheck;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// Runs a property over CsCheck cases with reproducible seeds: case i of a test uses the PCG seed (hash of the test's
/// name) + i, so CI always runs the same cases. A failing case is then shrunk by CsCheck (more iterations, starting at
/// the failing seed) and reported with the seed that replays it: <c>ILGPUNORM_FUZZ_SEED=&lt;seed&gt;</c> runs just that case
/// in every fuzz test; <c>ILGPUNORM_FUZZ_SEED=random</c> explores fresh random seeds instead.
/// </summary>
internal static class FuzzRun
{
    public const string SeedVariable = "ILGPUNORM_FUZZ_SEED";

    /// <returns>How many cases ran.</returns>
    public static int Cases<T>(string name, Gen<T> gen, int iterations, Action<T> property, Func<T, string> print)
    {
        string? requested = Environment.GetEnvironmentVariable(SeedVariable);
        if (requested == "random")
        {
            gen.Sample(property, iter: iterations, threads: 1, print: print);
            return iterations;
        }

        if (!string.IsNullOrWhiteSpace(requested))
        {
            gen.Sample(property, seed: requested, iter: 1, threads: 1, print: print);
            return 1;
        }

        ulong baseSeed = name.Aggregate(1469598103934665603UL, (h, c) => (h ^ c) * 1099511628211UL) & 0xFFFF_FFFF_FFFFUL;
        for (int i = 0; i < iterations; i++)
        {
            string seed = new PCG(1, baseSeed + (ulong)i).ToString();
            try
            {
                gen.Sample(property, seed: seed, iter: 1, threads: 1, print: print);
            }
            catch (CsCheckException)
            {
                // Shrink: CsCheck starts again from the failing seed and keeps the smallest failure it finds; it throws
                // with that case and its seed. Should the shrink not fail (it always replays the seed first), rethrow.
                gen.Sample(property, seed: seed, iter: 2000, time: 5, threads: 1, print: print);
                throw;
            }
        }

        return iterations;
    }
}
