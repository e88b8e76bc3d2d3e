using System.Diagnostics;
using System.Globalization;
using System.Text;
using Flywheel.Tensors;

namespace Flywheel.Kernels;

/// <summary>
/// A kernel set that forwards every call to another and adds up the wall time of each kind of call (matmuls by
/// weight type), so a benchmark can say where a forward pass spends its time and what is left outside the kernels.
/// The clock costs ~25 ns a call, negligible next to a prompt's kernels but not next to a decode step's smallest ones.
/// Thread-safety: as the wrapped set; the counters are updated with interlocked adds.
/// </summary>
public sealed class TimedKernels(IKernelSet inner) : IKernelSet
{
    private const int Types = 64; // slots per op: GgmlType values are below 64
    private readonly long[] _ticks = new long[(Enum.GetValues<KernelOp>().Length) * Types];
    private readonly long[] _calls = new long[(Enum.GetValues<KernelOp>().Length) * Types];

    public IKernelSet Inner { get; } = inner;

    /// <summary>While true, calls are forwarded without being counted (e.g. a warm-up, or the phase not profiled).</summary>
    public bool Paused { get; set; }

    public string Name => Inner.Name;

    public bool Supports(KernelOp op, GgmlType type) => Inner.Supports(op, type);

    public long MatMulScratchBytes(GgmlType weightType, int inputFeatures, int rows) => Inner.MatMulScratchBytes(weightType, inputFeatures, rows);

    /// <summary>Forwarded (untimed: it runs at load), so the profiled matmuls see the same repacked weights as unprofiled ones.</summary>
    public TensorView PrepareWeight(TensorView weight) => Inner.PrepareWeight(weight);

    public void MatMul(TensorView weight, ReadOnlySpan<float> input, Span<float> output, int rows, Span<byte> scratch)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.MatMul(weight, input, output, rows, scratch);
        Add(KernelOp.MatMul, weight.Type, start);
    }

    public void GetRow(TensorView table, int row, Span<float> output)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.GetRow(table, row, output);
        Add(KernelOp.GetRows, table.Type, start);
    }

    public void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, Span<float> output, int width, float epsilon)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.RmsNorm(input, weight, output, width, epsilon);
        Add(KernelOp.RmsNorm, GgmlType.F32, start);
    }

    public void Rope(Span<float> data, int rows, int heads, int headDim, ReadOnlySpan<int> positions, RopeParameters rope)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.Rope(data, rows, heads, headDim, positions, rope);
        Add(KernelOp.Rope, GgmlType.F32, start);
    }

    public void Softmax(Span<float> values)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.Softmax(values);
        Add(KernelOp.Softmax, GgmlType.F32, start);
    }

    public void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> output)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.SwiGlu(gate, up, output);
        Add(KernelOp.SwiGlu, GgmlType.F32, start);
    }

    public void Attention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTable,
        int blockSize, Span<float> output, int rows, int heads, int kvHeads, int headDim, ReadOnlySpan<int> positions, float scale,
        Span<float> scratch)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.Attention(query, keys, values, blockTable, blockSize, output, rows, heads, kvHeads, headDim, positions, scale, scratch);
        Add(KernelOp.Attention, GgmlType.F16, start);
    }

    /// <summary>Timed as <see cref="KernelOp.Attention"/>, so a profile adds up all attention however it was batched.</summary>
    public void DecodeAttention(ReadOnlySpan<float> query, ReadOnlySpan<ushort> keys, ReadOnlySpan<ushort> values, ReadOnlySpan<int> blockTables,
        ReadOnlySpan<int> tableStarts, ReadOnlySpan<int> tableLengths, int blockSize, Span<float> output, int rows, int heads, int kvHeads,
        int headDim, ReadOnlySpan<int> positions, float scale, Span<float> scratch)
    {
        var start = Stopwatch.GetTimestamp();
        Inner.DecodeAttention(query, keys, values, blockTables, tableStarts, tableLengths, blockSize, output, rows, heads, kvHeads, headDim,
            positions, scale, scratch);
        Add(KernelOp.Attention, GgmlType.F16, start);
    }

    public int AttentionScratchFloats(int contextLength, int heads, int headDim) => Inner.AttentionScratchFloats(contextLength, heads, headDim);

    /// <summary>Total time inside the wrapped set since the last <see cref="Reset"/>.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(0, _ticks.Sum());

    public void Reset()
    {
        Array.Clear(_ticks);
        Array.Clear(_calls);
    }

    /// <summary>One line per kind of call: total milliseconds, share of <paramref name="wall"/>, calls; then the time outside.</summary>
    public string Report(TimeSpan wall)
    {
        var lines = new List<(double Ms, string Text)>();
        for (var i = 0; i < _ticks.Length; i++)
        {
            if (_calls[i] == 0) continue;
            var op = (KernelOp)(i / Types);
            var type = (GgmlType)(i % Types);
            var ms = Stopwatch.GetElapsedTime(0, _ticks[i]).TotalMilliseconds;
            var name = op == KernelOp.MatMul ? $"MatMul {GgmlTypeInfo.Name(type)}" : op.ToString();
            lines.Add((ms, string.Create(CultureInfo.InvariantCulture, $"{name,-16} {ms,10:F1} ms {100 * ms / wall.TotalMilliseconds,6:F1}% {_calls[i],8} calls")));
        }
        var sb = new StringBuilder();
        foreach (var l in lines.OrderByDescending(l => l.Ms)) sb.AppendLine(l.Text);
        var outside = wall - Total;
        sb.Append(string.Create(CultureInfo.InvariantCulture,
            $"{"outside kernels",-16} {outside.TotalMilliseconds,10:F1} ms {100 * outside.TotalMilliseconds / wall.TotalMilliseconds,6:F1}%"));
        return sb.ToString();
    }

    private void Add(KernelOp op, GgmlType type, long start)
    {
        if (Paused) return;
        var slot = (int)op * Types + ((int)type & (Types - 1));
        Interlocked.Add(ref _ticks[slot], Stopwatch.GetTimestamp() - start);
        Interlocked.Increment(ref _calls[slot]);
    }
}
