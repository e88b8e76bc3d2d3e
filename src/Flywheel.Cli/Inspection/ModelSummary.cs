using System.Text.Json.Nodes;

namespace Flywheel.Cli.Inspection;

/// <summary>What <c>flywheel inspect</c> reports about a model, whatever form it came in.</summary>
internal sealed record ModelSummary(
    string Format,
    string Path,
    uint? Version,
    string? Architecture,
    long ParameterCount,
    long? ContextLength,
    string? TokenizerModel,
    bool HasChatTemplate,
    IReadOnlyList<TensorSummary> Tensors,
    JsonObject Metadata);

/// <summary>One tensor: its name, type name ("Q4_K", "BF16", ...) and shape in GGUF order.</summary>
internal sealed record TensorSummary(string Name, string Type, long[] Shape);
