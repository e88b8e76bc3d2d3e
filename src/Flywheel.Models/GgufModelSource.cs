using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Tensors;

namespace Flywheel.Models;

/// <summary>A GGUF file as a <see cref="ModelSource"/>: tensors are zero-copy views into the mapping.</summary>
internal sealed class GgufModelSource : ModelSource
{
    private readonly GgufFile _file;

    public GgufModelSource(string path)
    {
        _file = GgufFile.Open(path);
        Architecture = _file.Architecture ?? throw new ModelFormatException(path, null, $"metadata key '{GgufKeys.Architecture}' is missing");
    }

    public GgufFile File => _file;

    public override unsafe void ReleasePages(TensorView tensor) => _file.ReleasePages(tensor.Data, tensor.ByteLength);
    public override string Path => _file.Path;
    public override string Architecture { get; }
    public override bool IsHuggingFace => false;
    public override long? Int(string key) => _file.TryGetInt64(key);
    public override double? Float(string key) => _file.TryGetDouble(key);
    public override string? String(string key) => _file.TryGetString(key);
    public override bool? Bool(string key) => _file.TryGetValue(key, out var v) ? v.AsBool() : null;
    public override TensorView? Find(string name) => _file.HasTensor(name) ? _file.GetTensor(name) : null;
    public override void Dispose() => _file.Dispose();
}
