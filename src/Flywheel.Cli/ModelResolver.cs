using Flywheel.Formats.HuggingFace;
using Flywheel.Formats.HuggingFace.Hub;

namespace Flywheel.Cli;

/// <summary>
/// Turns the MODEL argument of run, chat, perplexity and serve into a path. In order: an existing file or folder;
/// a model pulled before (<c>ORG/REPO</c> or <c>ORG/REPO:QUANT</c> under the models folder); otherwise a hub id,
/// pulled now. Pulled models live in <c>$FLYWHEEL_HOME/models/ORG/REPO/</c> (default <c>~/.flywheel/models</c>).
/// </summary>
internal static class ModelResolver
{
    public const string HomeVariable = "FLYWHEEL_HOME";

    public static string ModelsFolder =>
        Path.Combine(Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flywheel"), "models");

    /// <summary>The folder a repository is pulled into.</summary>
    public static string RepoFolder(HubModelId id) => Path.Combine(ModelsFolder, id.Organization, id.Name);

    /// <param name="log">Where an automatic pull reports progress (stderr, so stdout stays the command's output).</param>
    public static string Resolve(string model, string? endpoint = null, TextWriter? log = null)
    {
        if (File.Exists(model) || Directory.Exists(model)) return model;
        if (!HubModelId.TryParse(model, out var id))
        {
            throw new CliUsageException($"model not found: {model} (give a GGUF file, a Hugging Face folder, or a hub id ORG/REPO[:QUANT])");
        }
        if (FindPulled(id) is { } local) return local;
        // The notice comes once the hub has answered, so a failed look-up stays a one-line error.
        return HubPuller.Pull(id, endpoint, log ?? Console.Error, progressOnStderr: true,
            announce: $"flywheel: {id} is not in {ModelsFolder}; pulling it from the hub");
    }

    /// <summary>The local path of a pulled model, or null when it is not there (or only partly there).</summary>
    public static string? FindPulled(HubModelId id)
    {
        var folder = RepoFolder(id);
        if (!Directory.Exists(folder)) return null;
        var ggufs = Directory.EnumerateFiles(folder, "*.gguf", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Select(p => new HubFile(p, -1, null, null))
            .ToList();
        if (id.Selector is not null)
        {
            if (ggufs.Count == 0) return null;
            try
            {
                return Path.Combine(folder, HubFileSelector.Select(id.Repo, ggufs, id.Selector)[0].Path);
            }
            catch (HubException)
            {
                return null; // not pulled yet: the hub decides (and explains an ambiguous tag)
            }
        }
        if (HfCheckpoint.IsCheckpointFolder(folder) && Directory.EnumerateFiles(folder, "*.safetensors").Any()) return folder;
        if (ggufs.Count == 1) return Path.Combine(folder, ggufs[0].Path);
        if (ggufs.Count > 1)
        {
            throw new CliUsageException($"{id.Repo} has {ggufs.Count} pulled .gguf files; name one with {id.Repo}:QUANT or {id.Repo}:FILE ({string.Join(", ", ggufs.Select(g => g.Path))})");
        }
        return null;
    }

    /// <summary>The hub endpoint: the option, else $HF_ENDPOINT, else huggingface.co.</summary>
    public static string Endpoint(string? option) =>
        option is { Length: > 0 } ? option
        : Environment.GetEnvironmentVariable(HubClient.EndpointVariable) is { Length: > 0 } env ? env
        : HubClient.DefaultEndpoint;
}
