using Flywheel.Formats;
using Flywheel.Models.Architectures.Llama;
using Flywheel.Models.Architectures.Qwen2;
using Flywheel.Models.Architectures.Qwen3;

namespace Flywheel.Models.Architectures;

/// <summary>The architectures Flywheel runs, by GGUF name. Adding one = one wiring file plus a line here.</summary>
internal static class ArchitectureRegistry
{
    private static readonly Dictionary<string, IArchitecture> ByName = new IArchitecture[]
    {
        new LlamaArchitecture(),
        new Qwen2Architecture(),
        new Qwen3Architecture(),
    }.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static IArchitecture Get(ModelSource source) =>
        ByName.TryGetValue(source.Architecture, out var a)
            ? a
            : throw new ModelFormatException(source.Path, null,
                $"unsupported architecture '{source.Architecture}'; Flywheel runs {string.Join(", ", ByName.Keys.Order(StringComparer.Ordinal))}");
}
