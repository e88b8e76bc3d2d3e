using Flywheel.Models.Layers;

namespace Flywheel.Models.Architectures;

/// <summary>
/// Maps one architecture's metadata and tensor names onto the shared layers (DESIGN.md habit 6). Stateless.
/// </summary>
internal interface IArchitecture
{
    /// <summary>GGUF architecture name.</summary>
    string Name { get; }

    ModelConfig ReadConfig(ModelSource source);

    TransformerWeights BindWeights(ModelSource source, ModelConfig config);
}
