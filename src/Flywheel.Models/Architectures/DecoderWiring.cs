using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Kernels;
using Flywheel.Models.Layers;
using Flywheel.Tensors;

namespace Flywheel.Models.Architectures;

/// <summary>
/// Wiring steps the Llama-family decoders share: reading the common hyperparameters from GGUF keys and binding the
/// standard per-layer tensors. Architectures call these and add what is theirs.
/// </summary>
internal static class DecoderWiring
{
    /// <summary>Reads the hyperparameters every Llama-like decoder has. <paramref name="neoxRope"/> is the architecture's
    /// RoPE order for GGUF files; Hugging Face checkpoints always use NeoX order (see <see cref="HuggingFaceModelSource"/>).</summary>
    public static ModelConfig ReadCommon(ModelSource s, bool neoxRope)
    {
        var arch = s.Architecture;
        string A(string key) => GgufKeys.Arch(arch, key);
        var embd = (int)s.RequireInt(A(GgufKeys.EmbeddingLength));
        var heads = (int)s.RequireInt(A(GgufKeys.HeadCount));
        var kvHeads = (int)(s.Int(A(GgufKeys.HeadCountKv)) ?? heads);
        var headDim = (int)(s.Int(A(GgufKeys.KeyLength)) ?? embd / heads);
        var valueDim = (int)(s.Int(A(GgufKeys.ValueLength)) ?? headDim);
        if (valueDim != headDim) throw new ModelFormatException(s.Path, null, $"key length {headDim} differs from value length {valueDim}; Flywheel needs them equal");
        if (heads % kvHeads != 0) throw new ModelFormatException(s.Path, null, $"{heads} attention heads do not divide into {kvHeads} KV heads");
        var trainedCtx = (int)(s.Int(A(GgufKeys.ContextLength)) ?? 2048);
        var embedding = s.Require(TensorNames.TokenEmbedding);
        var vocab = (int)(embedding.Shape.Count > 1 ? embedding.Shape[1] : s.RequireInt(A(GgufKeys.VocabSize)));
        var tokenizerModel = s.String(GgufKeys.TokenizerModel);
        return new ModelConfig
        {
            Architecture = arch,
            EmbeddingLength = embd,
            FeedForwardLength = (int)s.RequireInt(A(GgufKeys.FeedForwardLength)),
            LayerCount = (int)s.RequireInt(A(GgufKeys.BlockCount)),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDim = headDim,
            VocabSize = vocab,
            TrainedContextLength = trainedCtx,
            RmsNormEpsilon = (float)(s.Float(A(GgufKeys.LayerNormRmsEpsilon)) ?? 1e-5),
            Rope = ReadRope(s, arch, headDim, trainedCtx, neoxRope || s.IsHuggingFace),
            TiedEmbeddings = s.Find(TensorNames.Output) is null,
            BosTokenId = (int?)s.Int(GgufKeys.TokenizerBosId),
            EosTokenId = (int?)s.Int(GgufKeys.TokenizerEosId),
            // llama.cpp's default: SentencePiece vocabularies add BOS, GPT-2 BPE ones do not, unless the file says.
            AddBos = s.Bool(GgufKeys.TokenizerAddBos) ?? tokenizerModel is "llama" or null,
        };
    }

    /// <summary>RoPE settings from rope.* keys, as llama.cpp's llama_model::load_hparams reads them.</summary>
    private static RopeParameters ReadRope(ModelSource s, string arch, int headDim, int trainedCtx, bool neox)
    {
        string A(string key) => GgufKeys.Arch(arch, key);
        var type = s.String(A(GgufKeys.RopeScalingType)) ?? "none";
        var factor = s.Float(A(GgufKeys.RopeScalingFactor)) ?? 0;
        var freqScale = factor > 0 ? (float)(1.0 / factor) : 1f;
        float extFactor;
        switch (type)
        {
            case "none": freqScale = 1f; extFactor = 0f; break;
            case "linear": extFactor = 0f; break;
            case "yarn": extFactor = 1f; break;
            default: throw new ModelFormatException(s.Path, null, $"unsupported rope scaling type '{type}'");
        }
        float[]? freqFactors = null;
        if (s.Find(TensorNames.RopeFrequencies) is { } rf)
        {
            freqFactors = ReadVector(s, rf);
        }
        else if (s is HuggingFaceModelSource { Llama3FreqFactors: { } f })
        {
            freqFactors = f;
        }
        var dims = (int)(s.Int(A(GgufKeys.RopeDimensionCount)) ?? headDim);
        if (freqFactors is not null && freqFactors.Length != dims / 2)
        {
            throw new ModelFormatException(s.Path, null, $"{TensorNames.RopeFrequencies} has {freqFactors.Length} values; expected {dims / 2}");
        }
        return new RopeParameters
        {
            Dimensions = dims,
            NeoX = neox,
            FreqBase = (float)(s.Float(A(GgufKeys.RopeFreqBase)) ?? 10000.0),
            FreqScale = freqScale,
            ExtFactor = extFactor,
            OriginalContextLength = (int)(s.Int(A(GgufKeys.RopeScalingOriginalContextLength)) ?? trainedCtx),
            FreqFactors = freqFactors,
        };
    }

    /// <summary>Token embedding, final norm and output (tied to the embedding when output.weight is absent).</summary>
    public static (TensorView Embedding, float[] OutputNorm, TensorView Output) BindEnds(ModelSource s, ModelConfig c)
    {
        var embedding = s.Require(TensorNames.TokenEmbedding);
        CheckShape(s, embedding, c.EmbeddingLength, c.VocabSize);
        if (!KernelSets.Reference.Supports(KernelOp.GetRows, embedding.Type))
        {
            throw new ModelFormatException(s.Path, null, $"tensor '{embedding.Name}' has type {GgmlTypeInfo.Name(embedding.Type)}, which Flywheel cannot read yet");
        }
        var output = s.Find(TensorNames.Output) is not null
            ? Matrix(s, TensorNames.Output, c.EmbeddingLength, c.VocabSize)
            : Matrix(s, TensorNames.TokenEmbedding, c.EmbeddingLength, c.VocabSize);
        return (embedding, Vector(s, TensorNames.OutputNorm, c.EmbeddingLength), output);
    }

    public static AttentionWeights BindAttention(ModelSource s, ModelConfig c, int layer, bool bias, bool qkNorm) => new()
    {
        Norm = Vector(s, TensorNames.AttentionNorm(layer), c.EmbeddingLength),
        Query = Matrix(s, TensorNames.Query(layer), c.EmbeddingLength, c.QueryWidth),
        Key = Matrix(s, TensorNames.Key(layer), c.EmbeddingLength, c.KvWidth),
        Value = Matrix(s, TensorNames.Value(layer), c.EmbeddingLength, c.KvWidth),
        Output = Matrix(s, TensorNames.AttentionOutput(layer), c.QueryWidth, c.EmbeddingLength),
        QueryBias = bias ? Vector(s, TensorNames.QueryBias(layer), c.QueryWidth) : null,
        KeyBias = bias ? Vector(s, TensorNames.KeyBias(layer), c.KvWidth) : null,
        ValueBias = bias ? Vector(s, TensorNames.ValueBias(layer), c.KvWidth) : null,
        QueryNorm = qkNorm ? Vector(s, TensorNames.QueryNorm(layer), c.HeadDim) : null,
        KeyNorm = qkNorm ? Vector(s, TensorNames.KeyNorm(layer), c.HeadDim) : null,
    };

    public static FeedForwardWeights BindFeedForward(ModelSource s, ModelConfig c, int layer) => new()
    {
        Norm = Vector(s, TensorNames.FeedForwardNorm(layer), c.EmbeddingLength),
        Gate = Matrix(s, TensorNames.Gate(layer), c.EmbeddingLength, c.FeedForwardLength),
        Up = Matrix(s, TensorNames.Up(layer), c.EmbeddingLength, c.FeedForwardLength),
        Down = Matrix(s, TensorNames.Down(layer), c.FeedForwardLength, c.EmbeddingLength),
    };

    public static TensorView Matrix(ModelSource s, string name, int inFeatures, int outFeatures)
    {
        var t = s.Require(name);
        CheckShape(s, t, inFeatures, outFeatures);
        if (!KernelSets.Reference.Supports(KernelOp.MatMul, t.Type))
        {
            throw new ModelFormatException(s.Path, null, $"tensor '{name}' has type {GgmlTypeInfo.Name(t.Type)}, which Flywheel cannot multiply yet");
        }
        return s.PrepareMatrix is { } prepare ? prepare(t) : t;
    }

    public static float[] Vector(ModelSource s, string name, int length)
    {
        var t = s.Require(name);
        if (t.ElementCount != length) throw new ModelFormatException(s.Path, null, $"tensor '{name}' has {t.ElementCount} values; expected {length}");
        return ReadVector(s, t);
    }

    private static float[] ReadVector(ModelSource s, TensorView t)
    {
        if (!Dequantize.IsSupported(t.Type)) throw new ModelFormatException(s.Path, null, $"tensor '{t.Name}' has unsupported type {GgmlTypeInfo.Name(t.Type)}");
        var result = new float[t.ElementCount];
        Dequantize.Row(t.Type, t.Bytes, result);
        return result;
    }

    private static void CheckShape(ModelSource s, TensorView t, int inFeatures, int outFeatures)
    {
        if (t.Shape.Count != 2 || t.Shape[0] != inFeatures || t.Shape[1] != outFeatures)
        {
            throw new ModelFormatException(s.Path, null,
                $"tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}]; expected [{inFeatures}, {outFeatures}]");
        }
    }
}
