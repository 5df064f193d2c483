using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Half = System.Half;
using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>
/// Strided rows on every backend and dtype: the rows match the reference, the elements between rows keep their
/// (poisoned or NaN) values bit for bit, and the input's gaps (NaN) are never read.
/// </summary>
public class StridedRowsTests
{
    public static TheoryData<string, string> Cases() => Dtypes.BackendsByDtype();

    [Theory]
    [MemberData(nameof(Cases))]
    public void StridedRows_MatchReference_AndLeaveTheGapsAlone(string backend, string dtype) =>
        Dtypes.Run(dtype, new Strided(backend));

    [Theory]
    [MemberData(nameof(Cases))]
    public void StridedFusedAdd_UpdatesOnlyTheResidualRows(string backend, string dtype) =>
        Dtypes.Run(dtype, new StridedFused(backend));

    [Fact]
    public void VectorKernel_OnlyWhenStridesKeepPacketsAligned()
    {
        using var context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 2)));
        using var accelerator = context.CreateCPUAccelerator(0);
        using var kernels = new RmsNormKernels(accelerator);
        int rows = 3, hidden = 64;
        foreach (var (stride, vector) in new[] { (64, true), (68, true), (65, false), (70, false) })
        {
            var x = TestData.Random<float>(((rows - 1) * stride) + hidden, stride);
            var w = TestData.Random<float>(hidden, 7);
            using var input = accelerator.Allocate1D(x);
            using var weight = accelerator.Allocate1D(w);
            using var output = accelerator.Allocate1D(TestData.Poisoned<float>(x.Length));
            var layout = new RmsNormRowLayout(rows, hidden, stride, stride);
            kernels.ComputeRows(input.View.BaseView, default, layout, weight.View.BaseView, default, output.View.BaseView);
            accelerator.Synchronize();
            Assert.Equal(vector, kernels.Kernels.LastForwardUsedVector);
            var y = output.GetAsArray1D();
            PolicyCheck.AssertMatches(PolicyCheck.Gather(y, rows, hidden, stride), PolicyCheck.Gather(x, rows, hidden, stride), [rows, hidden], [hidden], w, [], RmsNormOptions.Default, $"stride {stride}");
            PolicyCheck.AssertGapsUntouched(TestData.Poisoned<float>(x.Length), y, rows, hidden, stride, $"stride {stride}");
        }
    }

    [Theory]
    [MemberData(nameof(BackendNames))]
    public void StridedInPlace_WithTheSameStride(string backend)
    {
        int rows = 4, hidden = 40, stride = 56;
        var buffer = TestData.Random<Half>(((rows - 1) * stride) + hidden, 601);
        var original = (Half[])buffer.Clone();
        var w = TestData.Random<Half>(hidden, 602, scale: 2.0);
        var options = Backends.Options(backend);
        RmsNorm.ComputeRows<Half>(buffer, new RmsNormRowLayout(rows, hidden, stride, stride), w, default, buffer, options);
        PolicyCheck.AssertMatches(PolicyCheck.Gather(buffer, rows, hidden, stride), PolicyCheck.Gather(original, rows, hidden, stride), [rows, hidden], [hidden], w, [], options, backend);
        PolicyCheck.AssertGapsUntouched(original, buffer, rows, hidden, stride, backend);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StridedRows_WithGroups_NormalizeEachGroupOfEachRow(string backend, string dtype) =>
        Dtypes.Run(dtype, new StridedGroups(backend));

    public static TheoryData<string> BackendNames() => Backends.All();

    private sealed record StridedGroups(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            foreach (var (inStride, outStride) in new[] { (104, 112), (101, 97) })
            {
                int rows = 3, hidden = 96;
                var x = StridedInput<T>(rows, hidden, inStride, inStride);
                var w = TestData.Random<T>(hidden, 2, scale: 2.0);
                var b = TestData.Random<T>(hidden, 3);
                var options = PolicyCheck.Options(Backend, RmsNormPolicy.InputDtype, 1f, numGroups: 4);
                var y = TestData.Poisoned<T>(((rows - 1) * outStride) + hidden);
                var before = (T[])y.Clone();
                RmsNorm.ComputeRows<T>(x, new RmsNormRowLayout(rows, hidden, inStride, outStride), w, b, y, options);
                PolicyCheck.AssertGapsUntouched(before, y, rows, hidden, outStride, Backend);
                PolicyCheck.AssertMatches(PolicyCheck.Gather(y, rows, hidden, outStride), PolicyCheck.Gather(x, rows, hidden, inStride), [rows, hidden], [hidden], w, b, options, $"{Backend} groups 4 strides {inStride}/{outStride}");
            }
        }
    }

    /// <summary>A strided buffer: rows of random data, NaN between them (a read of a gap poisons a row).</summary>
    internal static T[] StridedInput<T>(int rows, int hidden, int stride, int seed)
        where T : unmanaged
    {
        var data = TestData.Random<T>(rows * hidden, seed);
        var buffer = new T[((rows - 1) * stride) + hidden + 3];
        Array.Fill(buffer, TestData.Value<T>(double.NaN));
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(data, r * hidden, buffer, r * stride, hidden);
        }

        return buffer;
    }

    private static readonly (int Rows, int Hidden, int InStride, int OutStride)[] Layouts =
        [(1, 1, 1, 3), (3, 31, 37, 31), (4, 32, 40, 48), (2, 33, 33, 41), (5, 127, 128, 130), (2, 8193, 8200, 8197)];

    private sealed record Strided(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int seed = 700;
            int k = 0;
            foreach (var (rows, hidden, inStride, outStride) in Layouts)
            {
                var policy = PolicyCheck.Policies[k++ % 3];
                var x = StridedInput<T>(rows, hidden, inStride, seed++);
                var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                var b = TestData.Random<T>(hidden, seed++);
                var layout = new RmsNormRowLayout(rows, hidden, inStride, outStride);
                foreach (var (weight, bias, offset) in new[] { (w, b, 1f), (w, Array.Empty<T>(), 0f), (Array.Empty<T>(), Array.Empty<T>(), 0f) })
                {
                    var options = PolicyCheck.Options(Backend, policy, offset);
                    var y = TestData.Poisoned<T>(((rows - 1) * outStride) + hidden + 5);
                    var before = (T[])y.Clone();
                    RmsNorm.ComputeRows<T>(x, layout, weight, bias, y, options);
                    string context = $"{Backend} {layout}";
                    PolicyCheck.AssertGapsUntouched(before, y, rows, hidden, outStride, context);
                    PolicyCheck.AssertMatches(PolicyCheck.Gather(y, rows, hidden, outStride), PolicyCheck.Gather(x, rows, hidden, inStride), [rows, hidden], [hidden], weight, bias, options, context);
                }
            }
        }
    }

    private sealed record StridedFused(string Backend) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            int seed = 800;
            foreach (var (rows, hidden, inStride, outStride) in Layouts.Take(5))
            {
                int residualStride = hidden + 6;
                var x = StridedInput<T>(rows, hidden, inStride, seed++);
                var residual = StridedInput<T>(rows, hidden, residualStride, seed++);
                var residualBefore = (T[])residual.Clone();
                var w = TestData.Random<T>(hidden, seed++, scale: 2.0);
                var layout = new RmsNormRowLayout(rows, hidden, inStride, outStride) { ResidualRowStride = residualStride };
                var options = PolicyCheck.Options(Backend, RmsNormPolicy.TensorRtLlm, 1f);
                var y = TestData.Poisoned<T>(((rows - 1) * outStride) + hidden);
                var yBefore = (T[])y.Clone();
                RmsNorm.ComputeRowsFusedAdd<T>(x, residual, layout, w, default, y, options);
                string context = $"{Backend} {layout}";
                PolicyCheck.AssertGapsUntouched(residualBefore, residual, rows, hidden, residualStride, context + " residual");
                PolicyCheck.AssertGapsUntouched(yBefore, y, rows, hidden, outStride, context + " output");
                var sum = RmsNormPolicyReference.AddResidual<T>(PolicyCheck.Gather(x, rows, hidden, inStride), PolicyCheck.Gather(residualBefore, rows, hidden, residualStride));
                PolicyCheck.AssertSameBits(sum, PolicyCheck.Gather(residual, rows, hidden, residualStride), context + " residual rows");
                PolicyCheck.AssertMatches(PolicyCheck.Gather(y, rows, hidden, outStride), sum, [rows, hidden], [hidden], w, [], options, context);
            }
        }
    }
}
