using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace IlgpuNorm.Benchmarks;

/// <summary>
/// ONNX Runtime's CPU RMSNormalization (ONNX opset 23) as a comparison: a one-node model built in memory (the
/// protobuf written by hand, no ONNX tooling needed), run on caller-owned native buffers with no copies, on as many
/// intra-op threads as the machine has cores.
/// </summary>
public sealed unsafe class OnnxRmsNorm : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly OrtValue weight;
    private readonly string[] inputNames = ["X", "scale"];
    private readonly string[] outputNames = ["Y"];
    private readonly OrtValue[] inputs;
    private readonly OrtValue[] outputs;

    /// <summary>Builds the model and the session for [rows, columns] float32 buffers.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="columns">The normalized length.</param>
    /// <param name="epsilon">eps.</param>
    /// <param name="weightData">The weight (columns floats), kept alive by the caller.</param>
    /// <param name="x">The inputs, one per buffer set.</param>
    /// <param name="y">The outputs, one per buffer set.</param>
    public OnnxRmsNorm(int rows, int columns, float epsilon, float* weightData, float*[] x, float*[] y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        session = new InferenceSession(Model(columns, epsilon), options);
        var memory = OrtMemoryInfo.DefaultInstance;
        long[] shape = [rows, columns];
        long bytes = (long)rows * columns * sizeof(float);
        weight = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, [columns], (nint)weightData, columns * sizeof(float));
        inputs = new OrtValue[x.Length];
        outputs = new OrtValue[y.Length];
        for (int s = 0; s < x.Length; s++)
        {
            inputs[s] = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, shape, (nint)x[s], bytes);
            outputs[s] = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, shape, (nint)y[s], bytes);
        }
    }

    /// <summary>Runs the model on buffer set <paramref name="set"/>.</summary>
    /// <param name="set">Which input/output pair.</param>
    public void Run(int set) => session.Run(runOptions, inputNames, [inputs[set], weight], outputNames, [outputs[set]]);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var value in inputs.Concat(outputs))
        {
            value.Dispose();
        }

        weight.Dispose();
        runOptions.Dispose();
        session.Dispose();
    }

    /// <summary>ModelProto { ir_version 11, opset 23, graph { RMSNormalization(X, scale) -> Y, axis -1, epsilon } }.</summary>
    private static byte[] Model(int columns, float epsilon)
    {
        static byte[] ValueInfo(string name, bool batched, int columns)
        {
            var shape = new Proto();
            if (batched)
            {
                shape.Message(1, new Proto().String(2, "rows"));
            }

            shape.Message(1, new Proto().Varint(1, columns));
            var tensor = new Proto().Varint(1, 1 /* FLOAT */).Message(2, shape);
            return new Proto().String(1, name).Message(2, new Proto().Message(1, tensor)).ToArray();
        }

        var node = new Proto()
            .String(1, "X").String(1, "scale").String(2, "Y").String(3, "rms").String(4, "RMSNormalization")
            .Message(5, new Proto().String(1, "axis").Varint(3, -1).Varint(20, 2 /* INT */))
            .Message(5, new Proto().String(1, "epsilon").Fixed32(2, BitConverter.SingleToUInt32Bits(epsilon)).Varint(20, 1 /* FLOAT */));
        var graph = new Proto()
            .Message(1, node)
            .String(2, "rms_norm")
            .Bytes(11, ValueInfo("X", true, columns))
            .Bytes(11, ValueInfo("scale", false, columns))
            .Bytes(12, ValueInfo("Y", true, columns));
        return new Proto()
            .Varint(1, 11)
            .String(2, "IlgpuNorm.Benchmarks")
            .Message(7, graph)
            .Message(8, new Proto().String(1, string.Empty).Varint(2, 23))
            .ToArray();
    }

    /// <summary>The few protobuf wire types an ONNX model needs.</summary>
    private sealed class Proto
    {
        private readonly List<byte> stream = [];

        public Proto Varint(int field, long value)
        {
            Key(field, 0);
            WriteVarint((ulong)value);
            return this;
        }

        public Proto Fixed32(int field, uint value)
        {
            Key(field, 5);
            stream.AddRange(BitConverter.GetBytes(value)); // little-endian on every platform .NET runs this on
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto value) => Bytes(field, value.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Key(field, 2);
            WriteVarint((ulong)value.Length);
            stream.AddRange(value);
            return this;
        }

        public byte[] ToArray() => stream.ToArray();

        private void Key(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                stream.Add((byte)(value | 0x80));
                value >>= 7;
            }

            stream.Add((byte)value);
        }
    }
}
