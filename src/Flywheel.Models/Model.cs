using Flywheel.Formats;
using Flywheel.Formats.HuggingFace;
using Flywheel.Kernels;
using Flywheel.Models.Architectures;
using Flywheel.Models.Layers;
using Flywheel.Tensors;

namespace Flywheel.Models;

/// <summary>
/// A loaded decoder-only model: config, weights (views into the mapped file, never copied except small vectors)
/// and the kernel set that runs it. Immutable after <see cref="Load"/> and safe to share between threads; all
/// mutable state lives in <see cref="ModelSession"/>s. Dispose to unmap the file (sessions become invalid).
/// </summary>
public sealed class Model : IDisposable
{
    /// <summary>Sessions default to min(trained context, this) positions.</summary>
    public const int DefaultMaxContextLength = 4096;

    /// <summary>Set to 0 (or false/off) to keep the weights as mapped from the file instead of letting the kernel set
    /// repack them at load: for A/B comparisons, and where the extra copy does not fit in memory.</summary>
    public const string RepackEnvironmentVariable = "FLYWHEEL_REPACK";

    private readonly ModelSource _source;
    private readonly List<PackedTensor> _packed;

    private Model(ModelSource source, ModelConfig config, TransformerWeights weights, IKernelSet kernels, List<PackedTensor> packed)
    {
        _source = source;
        _packed = packed;
        Config = config;
        Weights = weights;
        Kernels = kernels;
    }

    public ModelConfig Config { get; }
    public TransformerWeights Weights { get; }
    public IKernelSet Kernels { get; }
    public string Path => _source.Path;

    /// <summary>Architectures <see cref="Load"/> accepts (GGUF names).</summary>
    public static IReadOnlyCollection<string> SupportedArchitectures => ArchitectureRegistry.Names;

    /// <summary>
    /// Loads a GGUF file or a Hugging Face folder (config.json + safetensors, F32/F16/BF16). Throws
    /// <see cref="ModelFormatException"/> naming the file for an unsupported architecture, a missing tensor or a bad shape.
    /// </summary>
    /// <param name="repack">Let the kernel set rearrange each matmul weight once for its kernels
    /// (<see cref="IKernelSet.PrepareWeight"/>; the copy is owned by the model and freed on dispose). Null reads
    /// <see cref="RepackEnvironmentVariable"/>, which defaults to on.</param>
    public static Model Load(string path, IKernelSet? kernels = null, bool? repack = null)
    {
        ModelSource source = HfCheckpoint.IsCheckpointFolder(path) ? new HuggingFaceModelSource(path) : new GgufModelSource(path);
        var packed = new List<PackedTensor>();
        try
        {
            kernels ??= KernelSets.Default;
            if (repack ?? RepackByDefault())
            {
                var set = kernels;
                // Every matmul matrix is bound through DecoderWiring.Matrix, which passes it here; the token
                // embedding is bound separately and keeps the file's view for row lookups (a tied output matrix is
                // its own view of the same bytes, and is prepared).
                source.PrepareMatrix = t =>
                {
                    var prepared = set.PrepareWeight(t);
                    if (prepared.Packed is { } p && !ReferenceEquals(prepared, t))
                    {
                        packed.Add(p);
                        // When the matmuls read only the copy, the file pages the packing read would stay resident
                        // and count the weights twice in RSS; a set that still reads the file for some calls (a
                        // single Q8_0 row) would only fault them back in.
                        if (!p.SourceStillRead) source.ReleasePages(t);
                    }
                    return prepared;
                };
            }
            var architecture = ArchitectureRegistry.Get(source);
            var config = architecture.ReadConfig(source);
            var weights = architecture.BindWeights(source, config);
            return new Model(source, config, weights, kernels, packed);
        }
        catch
        {
            foreach (var p in packed) p.Dispose();
            source.Dispose();
            throw;
        }
    }

    private static bool RepackByDefault() =>
        Environment.GetEnvironmentVariable(RepackEnvironmentVariable)?.Trim().ToLowerInvariant() is not ("0" or "false" or "off" or "no");

    /// <summary>Bytes of the kernel set's repacked weight copies (0 when nothing was repacked).</summary>
    public long PackedBytes => _packed.Sum(p => p.ByteLength);

    /// <summary>The GGUF file behind this model, or null for a Hugging Face folder (e.g. to build a tokenizer).</summary>
    public Flywheel.Formats.Gguf.GgufFile? GgufFile => (_source as GgufModelSource)?.File;

    /// <summary>The tokenizer stored with the model (GGUF vocabulary, or tokenizer.json in a Hugging Face folder).</summary>
    public Flywheel.Tokenizers.Tokenizer LoadTokenizer() => Flywheel.Tokenizers.TokenizerLoader.FromPath(Path);

    /// <summary>A session with its own KV cache and activation buffers. See <see cref="SessionOptions"/>.</summary>
    public ModelSession CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    public void Dispose()
    {
        foreach (var p in _packed) p.Dispose();
        _source.Dispose();
    }
}
