using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using IlgpuNorm.Tests.Support;
using IlgpuNorm.Verification;
using Xunit;

namespace IlgpuNorm.Tests;

/// <summary>The extended device-resident API (bias, policy, fused add, strided rows) on ILGPU's CPU accelerator, every dtype.</summary>
public sealed class RmsNormKernelsExtendedTests : IDisposable
{
    private readonly Context context = Context.Create(b => b.CPU(new CPUDevice(4, 4, 2)));
    private readonly CPUAccelerator accelerator;
    private readonly RmsNormKernels kernels;

    public RmsNormKernelsExtendedTests()
    {
        accelerator = context.CreateCPUAccelerator(0);
        kernels = new RmsNormKernels(accelerator);
    }

    public void Dispose()
    {
        kernels.Dispose();
        accelerator.Dispose();
        context.Dispose();
    }

    [Theory]
    [MemberData(nameof(DtypeNames))]
    public void FusedAdd_OnViews_UpdatesTheResidual_AndMatchesThePolicy(string dtype) => Dtypes.Run(dtype, new Fused(this));

    [Theory]
    [MemberData(nameof(DtypeNames))]
    public void StridedRows_OnViews_WithResidual_LeaveTheGapsAlone(string dtype) => Dtypes.Run(dtype, new Rows(this));

    public static TheoryData<string> DtypeNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Dtypes.Names)
        {
            data.Add(name);
        }

        return data;
    }

    private sealed record Fused(RmsNormKernelsExtendedTests Owner) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var accelerator = Owner.accelerator;
            int rows = 3, hidden = 48;
            var x = TestData.Random<T>(rows * hidden, 1);
            var r = TestData.Random<T>(rows * hidden, 2);
            var w = TestData.Random<T>(hidden, 3, scale: 2.0);
            var b = TestData.Random<T>(hidden, 4);
            foreach (var policy in PolicyCheck.Policies)
            {
                var options = new RmsNormOptions { Policy = policy, WeightOffset = 1f };
                using var input = accelerator.Allocate1D(x);
                using var residual = accelerator.Allocate1D(r);
                using var weight = accelerator.Allocate1D(w);
                using var bias = accelerator.Allocate1D(b);
                using var output = accelerator.Allocate1D(TestData.Poisoned<T>(x.Length));
                Owner.kernels.ComputeFusedAdd(input.View.BaseView, residual.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, bias.View.BaseView, output.View.BaseView, options);
                accelerator.Synchronize();
                var sum = RmsNormPolicyReference.AddResidual<T>(x, r);
                PolicyCheck.AssertSameBits(sum, residual.GetAsArray1D(), $"{policy} residual");
                PolicyCheck.AssertMatches(output.GetAsArray1D(), sum, [rows, hidden], [hidden], w, b, options, "views");

                using var unfused = accelerator.Allocate1D(TestData.Poisoned<T>(x.Length));
                Owner.kernels.Compute(residual.View.BaseView, [rows, hidden], [hidden], weight.View.BaseView, bias.View.BaseView, unfused.View.BaseView, options);
                accelerator.Synchronize();
                PolicyCheck.AssertSameBits(unfused.GetAsArray1D(), output.GetAsArray1D(), $"{policy} fused vs unfused on views");
            }
        }
    }

    private sealed record Rows(RmsNormKernelsExtendedTests Owner) : IDtypeBody
    {
        public void Run<T>()
            where T : unmanaged
        {
            var accelerator = Owner.accelerator;
            int rows = 4, hidden = 24;
            var layout = new RmsNormRowLayout(rows, hidden, 40, 32) { ResidualRowStride = 27 };
            var x = StridedRowsTests.StridedInput<T>(rows, hidden, 40, 11);
            var r = StridedRowsTests.StridedInput<T>(rows, hidden, 27, 12);
            var y = TestData.Poisoned<T>(((rows - 1) * 32) + hidden);
            var w = TestData.Random<T>(hidden, 13, scale: 2.0);
            using var input = accelerator.Allocate1D(x);
            using var residual = accelerator.Allocate1D(r);
            using var weight = accelerator.Allocate1D(w);
            using var output = accelerator.Allocate1D(y);
            Owner.kernels.ComputeRows(input.View.BaseView, residual.View.BaseView, layout, weight.View.BaseView, default, output.View.BaseView);
            accelerator.Synchronize();
            var gotResidual = residual.GetAsArray1D();
            var got = output.GetAsArray1D();
            PolicyCheck.AssertGapsUntouched(r, gotResidual, rows, hidden, 27, "residual");
            PolicyCheck.AssertGapsUntouched(y, got, rows, hidden, 32, "output");
            var sum = RmsNormPolicyReference.AddResidual<T>(PolicyCheck.Gather(x, rows, hidden, 40), PolicyCheck.Gather(r, rows, hidden, 27));
            PolicyCheck.AssertSameBits(sum, PolicyCheck.Gather(gotResidual, rows, hidden, 27), "residual rows");
            PolicyCheck.AssertMatches(PolicyCheck.Gather(got, rows, hidden, 32), sum, [rows, hidden], [hidden], w, [], RmsNormOptions.Default, "strided views");
        }
    }
}
