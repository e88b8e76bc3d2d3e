using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Formats.HuggingFace;
using Flywheel.Formats.Safetensors;
using Flywheel.Tensors;

namespace Flywheel.Models;

/// <summary>
/// A Hugging Face folder as a <see cref="ModelSource"/>. config.json is translated to the GGUF keys llama.cpp's
/// converter (convert_hf_to_gguf.py) would write, and F32/F16/BF16 safetensors are viewed in place with the shape
/// reversed to GGUF order. Rotary order: Hugging Face q_proj/k_proj rows are in NeoX (half-split) order, and
/// llama.cpp's converter permutes them for GGUF llama files. We do not permute: a Hugging Face model always runs
/// with NeoX RoPE (<see cref="ModelSource.IsHuggingFace"/>), which computes the same function.
/// </summary>
internal sealed unsafe class HuggingFaceModelSource : ModelSource
{
    private readonly HfCheckpoint _checkpoint;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Info)> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object> _metadata = new(StringComparer.Ordinal);

    public HuggingFaceModelSource(string folder)
    {
        _checkpoint = HfCheckpoint.Open(folder);
        var c = _checkpoint.Config;
        Architecture = c.ModelType switch
        {
            "llama" or "mistral" => "llama",
            "qwen2" => "qwen2",
            "qwen3" => "qwen3",
            var other => throw new ModelFormatException(folder, null,
                $"unsupported architecture '{other}' (model_type in config.json); Flywheel runs llama, qwen2 and qwen3"),
        };
        foreach (var t in _checkpoint.Tensors)
        {
            if (HfTensorNames.ToInternal(t.Name) is { } name)
            {
                _tensors[name] = (_checkpoint.ShardOf(t.Name)!, t);
            }
        }
        string A(string key) => GgufKeys.Arch(Architecture, key);
        var headDim = c.HeadDim ?? (c.NumAttentionHeads > 0 ? c.HiddenSize / c.NumAttentionHeads : 0);
        _metadata[A(GgufKeys.EmbeddingLength)] = (long)c.HiddenSize;
        _metadata[A(GgufKeys.FeedForwardLength)] = (long)c.IntermediateSize;
        _metadata[A(GgufKeys.BlockCount)] = (long)c.NumHiddenLayers;
        _metadata[A(GgufKeys.HeadCount)] = (long)c.NumAttentionHeads;
        _metadata[A(GgufKeys.HeadCountKv)] = (long)c.NumKeyValueHeads;
        _metadata[A(GgufKeys.KeyLength)] = (long)headDim;
        _metadata[A(GgufKeys.ValueLength)] = (long)headDim;
        _metadata[A(GgufKeys.ContextLength)] = (long)c.MaxPositionEmbeddings;
        _metadata[A(GgufKeys.LayerNormRmsEpsilon)] = c.RmsNormEps;
        _metadata[A(GgufKeys.RopeFreqBase)] = c.RopeTheta;
        _metadata[A(GgufKeys.RopeDimensionCount)] = (long)headDim;
        if (c.VocabSize > 0) _metadata[A(GgufKeys.VocabSize)] = (long)c.VocabSize;
        if (c.RopeScaling is { } rs) ReadRopeScaling(rs, A);
        if (c.BosTokenId is { } bos) _metadata[GgufKeys.TokenizerBosId] = (long)bos;
        if (c.EosTokenId is { } eos) _metadata[GgufKeys.TokenizerEosId] = (long)eos;
    }

    /// <summary>Llama 3 scaling factors computed as llama.cpp's converter does (generate_extra_tensors); null otherwise.</summary>
    public float[]? Llama3FreqFactors { get; private set; }

    private void ReadRopeScaling(JsonObject rs, Func<string, string> a)
    {
        var type = (rs["rope_type"] ?? rs["type"])?.GetValue<string>();
        var factor = rs["factor"]?.GetValue<double>() ?? 1.0;
        switch (type)
        {
            case "linear":
            case "yarn":
                _metadata[a(GgufKeys.RopeScalingType)] = type;
                _metadata[a(GgufKeys.RopeScalingFactor)] = factor;
                if (rs["original_max_position_embeddings"]?.GetValue<double>() is { } orig)
                {
                    _metadata[a(GgufKeys.RopeScalingOriginalContextLength)] = (long)orig;
                }
                break;
            case "llama3":
                var c = _checkpoint.Config;
                var headDim = c.HeadDim ?? c.HiddenSize / c.NumAttentionHeads;
                var low = rs["low_freq_factor"]?.GetValue<double>() ?? 1.0;
                var high = rs["high_freq_factor"]?.GetValue<double>() ?? 4.0;
                var origCtx = rs["original_max_position_embeddings"]?.GetValue<double>() ?? 8192;
                Llama3FreqFactors = Llama3Factors(headDim, c.RopeTheta, factor, low, high, origCtx);
                break;
            case null or "default":
                break;
            default:
                throw new ModelFormatException(_checkpoint.Folder, null, $"unsupported rope_scaling type '{type}'");
        }
    }

    /// <summary>
    /// Llama 3.1 frequency factors (Meta's apply_scaling, as written into rope_freqs.weight by llama.cpp's
    /// converter): long wavelengths are divided by the factor, short ones kept, the band between smoothly blended.
    /// </summary>
    internal static float[] Llama3Factors(int headDim, double theta, double factor, double lowFreqFactor, double highFreqFactor, double originalContext)
    {
        var lowWavelen = originalContext / lowFreqFactor;
        var highWavelen = originalContext / highFreqFactor;
        var result = new float[headDim / 2];
        for (var i = 0; i < result.Length; i++)
        {
            var freq = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            var wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) result[i] = 1f;
            else if (wavelen > lowWavelen) result[i] = (float)factor;
            else
            {
                var smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                result[i] = (float)(1 / ((1 - smooth) / factor + smooth));
            }
        }
        return result;
    }

    public override string Path => _checkpoint.Folder;
    public override string Architecture { get; }
    public override bool IsHuggingFace => true;
    public override long? Int(string key) => _metadata.TryGetValue(key, out var v) && v is long l ? l : null;
    public override double? Float(string key) => _metadata.TryGetValue(key, out var v) ? v switch { double d => d, long l => l, _ => null } : null;
    public override string? String(string key) => _metadata.TryGetValue(key, out var v) ? v as string : null;
    public override bool? Bool(string key) => _metadata.TryGetValue(key, out var v) && v is bool b ? b : null;

    public override TensorView? Find(string name)
    {
        if (!_tensors.TryGetValue(name, out var entry)) return null;
        var type = SafetensorsFile.GgmlTypeOf(entry.Info.DType);
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            throw new ModelFormatException(entry.File.Path, null, $"tensor '{entry.Info.Name}' is {entry.Info.DType}; Flywheel reads F32, F16 and BF16 checkpoints");
        }
        var bytes = entry.File.GetBytes(entry.Info.Name);
        // The mapping is stable for the file's lifetime, so a pointer into it is valid as long as this source is.
        var data = (byte*)Unsafe.AsPointer(ref Unsafe.AsRef(in bytes.GetPinnableReference()));
        return new TensorView(name, type.Value, entry.Info.GgufShape, data, bytes.Length);
    }

    public override void Dispose() => _checkpoint.Dispose();
}
