using CsCheck;
using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuNorm.Tests.Fuzz;

/// <summary>
/// Property: on every backend and dtype, a random call (<see cref="FuzzGen"/>) agrees with the float64 reference within
/// the tolerance table, writes every element of a poisoned destination, and leaves its input alone. A failure is shrunk
/// and printed as a <see cref="FuzzCase"/> with the seed that replays it (<see cref="FuzzRun.SeedVariable"/>).
/// </summary>
public class ReferenceFuzzTests(ITestOutputHelper output)
{
    private static int Iterations(string backend) => backend == "host" ? 4000 : Backends.IsSlow(backend) ? 150 : 300;

    [Theory]
    [MemberData(nameof(Dtypes.BackendsByDtype), MemberType = typeof(Dtypes))]
    public void RandomCalls_AgreeWithTheReference(string backend, string dtype)
    {
        bool slow = Backends.IsSlow(backend);
        long checkedCases = 0, elements = 0;
        int ran = FuzzRun.Cases(
            $"reference {backend} {dtype}",
            FuzzGen.Case(maxBatch: slow ? 12 : 27, maxNormalized: slow ? 130 : 257),
            Iterations(backend),
            c =>
            {
                Dtypes.Run(dtype, new Body(backend, c));
                Interlocked.Increment(ref checkedCases);
                Interlocked.Add(ref elements, c.X.Length);
            },
            c => c.ToString());
        output.WriteLine($"{backend} {dtype}: {checkedCases} random calls ({elements} elements) agree with the reference");
        Assert.Equal(ran, checkedCases);
    }
    private sealed class Body(string backend, FuzzCase c) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            T[] x = c.Input<T>();
            T[] w = c.Weight<T>();
            T[] before = (T[])x.Clone();
            T[] actual = TestData.Poisoned<T>(x.Length);
            RmsNorm.Compute<T>(x, c.Shape, c.NormalizedShape, w, actual, Backends.Options(backend, c.Epsilon, c.NumGroups));
            Assert.Equal(before, x);

            var (expected, unweighted, compared) = PolicyReference.Compute(c, x, w);
            int n = c.NormalizedShape.Aggregate(1, (a, b) => a * b);
            for (int i = 0; i < x.Length; i++)
            {
                T? weight = w.Length == 0 ? null : w[i % n];
                if (compared[i] && !Tolerance.Accepts(actual[i], expected[i], unweighted[i], weight))
                {
                    long distance = Ulp.Distance(actual[i], expected[i]);
                    Assert.Fail($"{backend} {typeof(T).Name}: element {i}: got {Elements.ToDouble(actual[i]):R}, expected {Elements.ToDouble(expected[i]):R} " +
                        $"({(distance == long.MaxValue ? "inf" : distance)} ulp; budget {Tolerance.UlpBudget(ElementTypes.Of<T>()!.Value)})");
                }
            }
        }
    }
}
