using Flywheel.Formats;
using Flywheel.Tensors;

namespace Flywheel.Models;

/// <summary>
/// Where a model's hyperparameters and tensors come from, seen through GGUF's vocabulary: metadata keys as GGUF
/// spells them (see <see cref="Flywheel.Formats.Gguf.GgufKeys"/>) and tensors by their GGUF names. A Hugging Face
/// folder is translated into this view on open, so architecture wiring is written once.
/// </summary>
internal abstract class ModelSource : IDisposable
{
    public abstract string Path { get; }

    /// <summary>GGUF architecture name (llama, qwen2, qwen3, ...).</summary>
    public abstract string Architecture { get; }

    /// <summary>True for Hugging Face checkpoints: their q/k projections are in NeoX rotary order for every architecture.</summary>
    public abstract bool IsHuggingFace { get; }

    public abstract long? Int(string key);
    public abstract double? Float(string key);
    public abstract string? String(string key);
    public abstract bool? Bool(string key);

    /// <summary>The tensor named in GGUF terms, or null.</summary>
    public abstract TensorView? Find(string name);

    /// <summary>The named tensor; a clear error naming it (and the file) when it is missing.</summary>
    public TensorView Require(string name) =>
        Find(name) ?? throw new ModelFormatException(Path, null, $"tensor '{name}' is missing (required by the {Architecture} architecture)");

    public long RequireInt(string key) =>
        Int(key) ?? throw new ModelFormatException(Path, null, $"metadata key '{key}' is missing");

    /// <summary>Applied to every matmul matrix as it is bound (the kernel set's load-time repacking), or null.</summary>
    public Func<TensorView, TensorView>? PrepareMatrix { get; set; }

    /// <summary>Lets the operating system drop the resident file pages behind a tensor that was copied elsewhere
    /// (reads of it stay valid). Sources that do not map a file ignore it.</summary>
    public virtual void ReleasePages(TensorView tensor)
    {
    }

    public abstract void Dispose();
}
