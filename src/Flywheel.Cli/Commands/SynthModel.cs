using System.Globalization;
using Flywheel.Formats.Gguf;
using Flywheel.Tensors;

namespace Flywheel.Cli.Commands;

/// <summary>
/// Builds a random-weight GGUF model of a given <see cref="SynthShape"/>: the hyperparameter keys llama.cpp's
/// converter writes for the architecture, every tokenizer key of a vocabulary GGUF, and weights drawn from scaled
/// normal distributions, quantized with Flywheel's reference quantizers into the <see cref="SynthMixture"/> layout.
/// Values: matrices N(0, 0.02²) (the usual initialisation scale, which keeps activations and logits of order one),
/// biases N(0, 0.02²), norm weights 1 + N(0, 0.05²). Deterministic for a seed, whatever the thread count: each block of
/// <see cref="RowsPerChunk"/> rows has its own generator seeded from (seed, tensor, block). Matrix values are rounded
/// to F16 before they are quantized.
/// </summary>
internal static class SynthModel
{
    private const int RowsPerChunk = 16;
    private const float MatrixStd = 0.02f;
    private const float BiasStd = 0.02f;
    private const float NormStd = 0.05f;

    /// <summary>Tensor names as GGUF spells them (gguf-py constants.py, TENSOR_NAMES), the same ones the models bind.</summary>
    private static string Layer(int i, string name) => $"blk.{i}.{name}";

    public static GgufWriter Build(SynthShape shape, SynthFileType fileType, ulong seed, GgufFile vocabulary)
    {
        var tokens = vocabulary.TryGetArray(GgufKeys.TokenizerTokens)
            ?? throw new CliUsageException($"{vocabulary.Path} has no {GgufKeys.TokenizerTokens}; pass a vocabulary GGUF");
        var vocab = shape.Vocab ?? tokens.Length;
        if (vocab != tokens.Length)
        {
            throw new CliUsageException($"shape {shape.Name} has a vocabulary of {vocab} tokens but {vocabulary.Path} has {tokens.Length}");
        }
        var w = new GgufWriter();
        var arch = shape.Architecture;
        string A(string key) => GgufKeys.Arch(arch, key);
        w.Set(GgufKeys.Architecture, arch);
        w.Set(GgufKeys.Name, string.Create(CultureInfo.InvariantCulture, $"{shape.Name} random weights (flywheel synth, seed {seed})"));
        w.Set(A(GgufKeys.BlockCount), (uint)shape.Layers);
        w.Set(A(GgufKeys.ContextLength), (uint)shape.ContextLength);
        w.Set(A(GgufKeys.EmbeddingLength), (uint)shape.Hidden);
        w.Set(A(GgufKeys.FeedForwardLength), (uint)shape.FeedForward);
        w.Set(A(GgufKeys.HeadCount), (uint)shape.Heads);
        w.Set(A(GgufKeys.HeadCountKv), (uint)shape.KvHeads);
        w.Set(A(GgufKeys.RopeFreqBase), shape.RopeTheta);
        w.Set(A(GgufKeys.LayerNormRmsEpsilon), shape.RmsEpsilon);
        w.Set(GgufKeys.FileType, (uint)fileType);
        if (fileType is not (SynthFileType.F32 or SynthFileType.F16)) w.Set(GgufKeys.QuantizationVersion, 2u);
        foreach (var key in vocabulary.MetadataKeys)
        {
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) w.Set(key, vocabulary.Metadata[key]);
        }

        var tensorIndex = 0;
        void Matrix(string name, SynthMixture.Role role, int layer, int rowLength, int rows)
        {
            var type = SynthMixture.TypeFor(fileType, role, layer, shape.Layers, rowLength, shape.TiedEmbeddings);
            w.AddTensor(name, type, [rowLength, rows], Fill(type, rowLength, rows, seed, tensorIndex++, 0f, MatrixStd));
        }
        void Vector(string name, int length, float mean, float std) =>
            w.AddTensor(name, GgmlType.F32, [length], Fill(GgmlType.F32, length, 1, seed, tensorIndex++, mean, std));

        var h = shape.Hidden;
        var kv = shape.KvHeads * shape.HeadDim;
        var q = shape.Heads * shape.HeadDim;
        Matrix("token_embd.weight", SynthMixture.Role.TokenEmbedding, -1, h, vocab);
        for (var i = 0; i < shape.Layers; i++)
        {
            Vector(Layer(i, "attn_norm.weight"), h, 1f, NormStd);
            Matrix(Layer(i, "attn_q.weight"), SynthMixture.Role.Query, i, h, q);
            Vector(Layer(i, "attn_q.bias"), q, 0f, BiasStd);
            Matrix(Layer(i, "attn_k.weight"), SynthMixture.Role.Key, i, h, kv);
            Vector(Layer(i, "attn_k.bias"), kv, 0f, BiasStd);
            Matrix(Layer(i, "attn_v.weight"), SynthMixture.Role.Value, i, h, kv);
            Vector(Layer(i, "attn_v.bias"), kv, 0f, BiasStd);
            Matrix(Layer(i, "attn_output.weight"), SynthMixture.Role.AttentionOutput, i, q, h);
            Vector(Layer(i, "ffn_norm.weight"), h, 1f, NormStd);
            Matrix(Layer(i, "ffn_gate.weight"), SynthMixture.Role.Gate, i, h, shape.FeedForward);
            Matrix(Layer(i, "ffn_up.weight"), SynthMixture.Role.Up, i, h, shape.FeedForward);
            Matrix(Layer(i, "ffn_down.weight"), SynthMixture.Role.Down, i, shape.FeedForward, h);
        }
        Vector("output_norm.weight", h, 1f, NormStd);
        if (!shape.TiedEmbeddings) Matrix("output.weight", SynthMixture.Role.Output, -1, h, vocab);
        return w;
    }

    /// <summary>Draws rows × rowLength values of N(mean, std²) and encodes them as <paramref name="type"/>.</summary>
    private static byte[] Fill(GgmlType type, int rowLength, int rows, ulong seed, int tensor, float mean, float std)
    {
        var rowBytes = (int)GgmlTypeInfo.RowBytes(type, rowLength);
        var data = new byte[(long)rowBytes * rows];
        var chunks = (rows + RowsPerChunk - 1) / RowsPerChunk;
        Parallel.For(0, chunks, () => new float[rowLength], (chunk, _, values) =>
        {
            var random = new Xoshiro(seed, (ulong)tensor, (ulong)chunk);
            var end = Math.Min(rows, (chunk + 1) * RowsPerChunk);
            for (var r = chunk * RowsPerChunk; r < end; r++)
            {
                random.FillNormal(values, mean, std);
                // Matrices hold F16-representable values, so `synth --type f16` fed to llama-quantize gives the same
                // bytes as synth's own quantized file (a check of both the mixture and the quantizers).
                if (type != GgmlType.F32)
                {
                    for (var i = 0; i < values.Length; i++) values[i] = Fp16.ToFloat(Fp16.FromFloat(values[i]));
                }
                Quantize.Row(type, values, data.AsSpan(r * rowBytes, rowBytes));
            }
            return values;
        }, _ => { });
        return data;
    }

    /// <summary>xoshiro256** (Blackman and Vigna), seeded through SplitMix64; normals by the Box–Muller transform.</summary>
    private struct Xoshiro
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro(ulong seed, ulong stream, ulong block)
        {
            var x = seed ^ (stream * 0x9E3779B97F4A7C15UL) ^ (block * 0xD1B54A32D192ED03UL);
            _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
        }

        private static ulong SplitMix(ref ulong x)
        {
            var z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private ulong Next()
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }

        /// <summary>A double in (0, 1]: 53 random bits, offset so the logarithm below never sees zero.</summary>
        private double NextUnit() => ((Next() >> 11) + 1) * (1.0 / (1UL << 53));

        public void FillNormal(Span<float> values, float mean, float std)
        {
            for (var i = 0; i < values.Length; i += 2)
            {
                var radius = Math.Sqrt(-2.0 * Math.Log(NextUnit()));
                var (sin, cos) = Math.SinCos(2.0 * Math.PI * NextUnit());
                values[i] = mean + std * (float)(radius * cos);
                if (i + 1 < values.Length) values[i + 1] = mean + std * (float)(radius * sin);
            }
        }
    }
}
