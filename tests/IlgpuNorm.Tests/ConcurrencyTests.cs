using System.Collections.Concurrent;
using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuNorm.Tests;

/// <summary>
/// The shared dispatcher and its backends under concurrent callers: 8 threads, thousands of calls with mixed shapes,
/// dtypes, options and backends, every result checked against the float64 reference; a deadlock fails (timeout).
/// </summary>
public class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Threads = 8;

    /// <summary>Calls per thread and backend: the CPU accelerator runs one OS thread per GPU thread, so it gets few.</summary>
    private static int CallsPerThread(string backend) => backend switch
    {
        "host" => 1000,
        _ when Backends.IsSlow(backend) => 30,
        _ => 100,
    };

    private static readonly int[] Hidden = [1, 2, 7, 31, 33, 64, 97, 128, 130];
    private static readonly double[] Epsilons = [0, 1e-6, 1e-5, 0.5];

    [Fact]
    public async Task EightThreads_MixedShapesDtypesOptionsAndBackends_AreAllCorrect_WithoutDeadlock()
    {
        string[] backends = [.. Backends.Names];
        var errors = new ConcurrentQueue<string>();
        var done = new ConcurrentDictionary<string, int>();
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(
            () => RunThread(thread, backends, errors, done), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        bool finished = await Finishes(tasks, TimeSpan.FromSeconds(120));
        string counts = string.Join(", ", done.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
        output.WriteLine($"{Threads} threads, {done.Values.Sum()} calls checked ({counts}) in {stopwatch.Elapsed.TotalSeconds:0.0} s");
        Assert.True(finished, $"deadlock or stall: not finished after 120 s; calls done: {counts}");
        Assert.Empty(errors);
        foreach (string backend in backends)
        {
            Assert.Equal(Threads * CallsPerThread(backend), done.GetValueOrDefault(backend));
        }
    }

    /// <summary>Whether every task ends within the timeout (a stalled one fails the test instead of hanging it).</summary>
    private static async Task<bool> Finishes(Task[] tasks, TimeSpan timeout)
    {
        var all = Task.WhenAll(tasks);
        return await Task.WhenAny(all, Task.Delay(timeout)) == all;
    }

    private static void RunThread(int thread, string[] backends, ConcurrentQueue<string> errors, ConcurrentDictionary<string, int> done)
    {
        var random = new Random(1000 + thread);
        var schedule = backends.SelectMany(b => Enumerable.Repeat(b, CallsPerThread(b))).ToArray();
        random.Shuffle(schedule);
        for (int call = 0; call < schedule.Length; call++)
        {
            string backend = schedule[call];
            string dtype = Dtypes.Names[random.Next(Dtypes.Names.Length)];
            var mixed = new MixedCall(backend, random, seed: thread * 100_000 + call);
            try
            {
                Dtypes.Run(dtype, mixed);
                done.AddOrUpdate(backend, 1, (_, n) => n + 1);
            }
#pragma warning disable CA1031 // collect every failure from every thread
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Enqueue($"thread {thread} call {call} ({backend}, {dtype}, {mixed.Describe()}): {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// One <see cref="RmsNormKernels"/> shared by four threads, each with its own buffers and its own stream: what guide 2
    /// says a caller may share. Every thread's results are checked.
    /// </summary>
    [Fact]
    public async Task SharedRmsNormKernels_FourThreadsWithTheirOwnStreams_AreAllCorrect()
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 1)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        const int Rows = 3, Width = 33, Calls = 6;
        var failures = new ConcurrentQueue<string>();
        var tasks = Enumerable.Range(0, 4).Select(thread => Task.Factory.StartNew(() =>
        {
            using var stream = accelerator.CreateStream();
            using var x = accelerator.Allocate1D<float>(Rows * Width);
            using var w = accelerator.Allocate1D<float>(Width);
            using var y = accelerator.Allocate1D<float>(Rows * Width);
            for (int call = 0; call < Calls; call++)
            {
                var hostX = TestData.Random<float>(Rows * Width, thread * 10 + call);
                var hostW = TestData.Random<float>(Width, 99 + thread);
                x.View.CopyFromCPU(stream, hostX);
                w.View.CopyFromCPU(stream, hostW);
                y.View.CopyFromCPU(stream, TestData.Poisoned<float>(Rows * Width));
                kernels.Compute(x.View.BaseView, [Rows, Width], [Width], w.View.BaseView, y.View.BaseView, epsilon: 1e-6, stream: stream);
                var result = new float[Rows * Width];
                y.View.CopyToCPU(stream, result);
                stream.Synchronize();
                try
                {
                    Check.AssertClose(hostX, [Rows, Width], [Width], hostW, 1e-6, 1, result, $"thread {thread} call {call}");
                }
#pragma warning disable CA1031 // collect every failure from every thread
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue(ex.Message);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        Assert.True(await Finishes(tasks, TimeSpan.FromSeconds(60)), "deadlock or stall: the shared kernels did not finish in 60 s");
        Assert.Empty(failures);
    }

    /// <summary>A random call: rank 1–3, one or two normalized dims, num_groups, eps (0 included), weight on or off.</summary>
    private sealed class MixedCall : IDtypeBody
    {
        private readonly string backend;
        private readonly int seed;
        private readonly int[] shape;
        private readonly int[] normalizedShape;
        private readonly int numGroups;
        private readonly double epsilon;
        private readonly bool weighted;

        public MixedCall(string backend, Random random, int seed)
        {
            this.backend = backend;
            this.seed = seed;
            shape = Shape(random, out normalizedShape, out numGroups);
            epsilon = Epsilons[random.Next(Epsilons.Length)];
            weighted = random.Next(2) == 0;
        }

        public string Describe() =>
            $"shape [{string.Join(",", shape)}] norm [{string.Join(",", normalizedShape)}] groups {numGroups} eps {epsilon} weight {weighted} seed {seed}";

        public void Run<T>()
            where T : unmanaged
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            int normalizedCount = normalizedShape.Aggregate(1, (a, b) => a * b);
            var x = TestData.Random<T>(count, seed);
            var w = weighted ? TestData.Random<T>(normalizedCount, seed + 1) : [];
            Check.AgainstReference(backend, x, shape, normalizedShape, w, epsilon, numGroups);
        }

        private static int[] Shape(Random random, out int[] normalized, out int groups)
        {
            int hidden = Hidden[random.Next(Hidden.Length)];
            groups = 1;
            if (random.Next(3) == 0)
            {
                // Two normalized dimensions (num_groups must stay 1).
                int lead = 1 + random.Next(3);
                normalized = [lead, hidden];
                return random.Next(2) == 0 ? [1 + random.Next(3), lead, hidden] : [lead, hidden];
            }

            normalized = [hidden];
            int[] divisors = [.. Enumerable.Range(1, 4).Where(g => hidden % g == 0)];
            groups = divisors[random.Next(divisors.Length)];
            return random.Next(3) switch
            {
                0 => [hidden],
                1 => [1 + random.Next(4), hidden],
                _ => [1 + random.Next(2), 1 + random.Next(3), hidden],
            };
        }
    }
}
