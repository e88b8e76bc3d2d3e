using Flywheel.Formats;
using Flywheel.Formats.HuggingFace;
using Flywheel.Kernels;
using Flywheel.Models.Architectures;
using Flywheel.Models.Layers;

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

    private readonly ModelSource _source;

    private Model(ModelSource source, ModelConfig config, TransformerWeights weights, IKernelSet kernels)
    {
        _source = source;
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
    public static Model Load(string path, IKernelSet? kernels = null)
    {
        ModelSource source = HfCheckpoint.IsCheckpointFolder(path) ? new HuggingFaceModelSource(path) : new GgufModelSource(path);
        try
        {
            var architecture = ArchitectureRegistry.Get(source);
            var config = architecture.ReadConfig(source);
            var weights = architecture.BindWeights(source, config);
            return new Model(source, config, weights, kernels ?? KernelSets.Default);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>The GGUF file behind this model, or null for a Hugging Face folder (e.g. to build a tokenizer).</summary>
    public Flywheel.Formats.Gguf.GgufFile? GgufFile => (_source as GgufModelSource)?.File;

    /// <summary>The tokenizer stored with the model (GGUF vocabulary, or tokenizer.json in a Hugging Face folder).</summary>
    public Flywheel.Tokenizers.Tokenizer LoadTokenizer() => Flywheel.Tokenizers.TokenizerLoader.FromPath(Path);

    /// <summary>A session with its own KV cache and activation buffers. See <see cref="SessionOptions"/>.</summary>
    public ModelSession CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    public void Dispose() => _source.Dispose();
}
