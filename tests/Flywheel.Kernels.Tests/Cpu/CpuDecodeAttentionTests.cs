using System.Runtime.Intrinsics;
using Flywheel.Kernels.Reference;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>
/// The CPU set's decode attention (fewer than <see cref="ReferenceKernels.TiledAttentionRows"/> rows) against a scalar
/// copy of its documented arithmetic, bit for bit: however the kernel arranges its loops (heads interleaved, 256- or
/// 512-bit steps), each output must be exactly what these steps give.
/// </summary>
public sealed class CpuDecodeAttentionTests
{
    /// <summary>
    /// heads, kvHeads, headDim, context: head sizes 8, 24, 64 and 128 (8-float tails and whole 16-float steps), head
    /// groups of 1 to 7, contexts of one and two positions, around the 16-position conversion block and long ones.
    /// </summary>
    public static TheoryData<string, int, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int, int>();
        int[] dims = [8, 24, 64, 128];
        int[] contexts = [1, 2, 15, 16, 17, 129, 300];
        foreach (var set in KernelSetParity.Names)
        {
            for (var group = 1; group <= 7; group++)
            {
                // Spread the sizes over the groups so every dim and context meets several group sizes.
                var kvHeads = group % 2 == 0 ? 2 : 1;
                foreach (var context in contexts) data.Add(set, group * kvHeads, kvHeads, dims[(group + context) % dims.Length], context);
            }
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Decode_attention_is_bit_identical_to_its_step_by_step_arithmetic(string set, int heads, int kvHeads, int headDim, int context)
    {
        var rows = Math.Min(3, context);
        var kernels = KernelSetParity.Get(set);
        var (q, k, v, table, positions) = CpuAttentionTests.Inputs(heads, kvHeads, headDim, rows, context);
        var scale = 1 / MathF.Sqrt(headDim);
        var actual = new float[q.Length];
        kernels.Attention(q, k, v, table, CpuAttentionTests.Block, actual, rows, heads, kvHeads, headDim, positions, scale,
            new float[kernels.AttentionScratchFloats(context, heads, headDim)]);
        var expected = StepByStep(q, k, v, table, CpuAttentionTests.Block, rows, heads, kvHeads, headDim, positions, scale);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                $"{set} output {i}: {actual[i]:R}, step by step {expected[i]:R}");
        }
    }

    /// <summary>
    /// One query head at a time, one element at a time: Q rounded to F16; q·k as products of floats summed in double
    /// in eight lanes (lane l takes elements 8m + l, lanes 0–3 and 4–7 added pairwise, then the four lanes summed as
    /// <see cref="Vector256.Sum{T}(Vector256{T})"/> does), narrowed to float and scaled; the online softmax position
    /// by position with <see cref="MathF.Exp"/>; the accumulator rounded to F16 after the rescale and after every
    /// fused multiply-add.
    /// </summary>
    private static float[] StepByStep(float[] q, ushort[] k, ushort[] v, int[] table, int blockSize, int rows, int heads, int kvHeads,
        int headDim, int[] positions, float scale)
    {
        var output = new float[q.Length];
        var group = heads / kvHeads;
        var acc = new float[headDim];
        var q16 = new float[headDim];
        var lanes = new double[8];
        for (var t = 0; t < rows; t++)
        {
            for (var h = 0; h < heads; h++)
            {
                var kvh = h / group;
                for (var i = 0; i < headDim; i++) q16[i] = Half16.Round(q[(t * heads + h) * headDim + i]);
                Array.Clear(acc);
                float max = float.NegativeInfinity, sum = 0f;
                for (var j = 0; j <= positions[t]; j++)
                {
                    var row = ((long)table[j / blockSize] * blockSize + j % blockSize) * kvHeads * headDim + kvh * headDim;
                    Array.Clear(lanes);
                    for (var i = 0; i < headDim; i++) lanes[i % 8] += Half16.ToFloat(k[row + i]) * q16[i];
                    var s = (float)Vector256.Sum(Vector256.Create(lanes[0] + lanes[4], lanes[1] + lanes[5], lanes[2] + lanes[6], lanes[3] + lanes[7])) * scale;
                    float ms = 1f, vs = 1f;
                    if (s > max)
                    {
                        ms = MathF.Exp(max - s);
                        max = s;
                        for (var i = 0; i < headDim; i++) acc[i] = Half16.Round(acc[i] * ms);
                    }
                    else
                    {
                        vs = MathF.Exp(s - max);
                    }
                    for (var i = 0; i < headDim; i++) acc[i] = Half16.Round(MathF.FusedMultiplyAdd(Half16.ToFloat(v[row + i]), vs, acc[i]));
                    sum = sum * ms + vs;
                }
                var inv = sum == 0f ? 0f : 1f / sum;
                for (var i = 0; i < headDim; i++) output[(t * heads + h) * headDim + i] = acc[i] * inv;
            }
        }
        return output;
    }
}
