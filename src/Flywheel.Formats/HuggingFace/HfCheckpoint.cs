using System.Text.Json;
using Flywheel.Formats.Safetensors;

namespace Flywheel.Formats.HuggingFace;

/// <summary>
/// A Hugging Face model folder: <c>config.json</c>, weights in one <c>model.safetensors</c> or in shards listed by
/// <c>model.safetensors.index.json</c>, and optionally <c>tokenizer.json</c> and <c>tokenizer_config.json</c>.
/// All shards are opened (memory-mapped) up front, so a missing or corrupt shard fails at open, naming the file.
/// Dispose to unmap. Thread-safe after construction.
/// </summary>
public sealed class HfCheckpoint : IDisposable
{
    public const string ConfigFile = "config.json";
    public const string SingleWeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string TokenizerFile = "tokenizer.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    private readonly List<SafetensorsFile> _shards = [];
    private readonly Dictionary<string, SafetensorsFile> _shardOf = new(StringComparer.Ordinal);

    private HfCheckpoint(string folder, HfConfig config)
    {
        Folder = folder;
        Config = config;
    }

    public string Folder { get; }
    public HfConfig Config { get; }
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <summary>All tensors across shards, in shard order then file order, with Hugging Face names.</summary>
    public IEnumerable<SafetensorsTensorInfo> Tensors => _shards.SelectMany(s => s.Tensors);

    public string? TokenizerJsonPath => ExistingFile(TokenizerFile);
    public string? TokenizerConfigPath => ExistingFile(TokenizerConfigFile);

    /// <summary>True when <paramref name="path"/> is a folder holding a config.json.</summary>
    public static bool IsCheckpointFolder(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, ConfigFile));

    public static HfCheckpoint Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new ModelFormatException(folder, null, "folder not found");
        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath)) throw new ModelFormatException(folder, null, "not a Hugging Face model folder: config.json is missing");
        var checkpoint = new HfCheckpoint(folder, HfConfig.Load(configPath));
        try
        {
            checkpoint.OpenShards();
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public SafetensorsFile? ShardOf(string tensorName) => _shardOf.GetValueOrDefault(tensorName);

    private void OpenShards()
    {
        var indexPath = Path.Combine(Folder, IndexFile);
        var single = Path.Combine(Folder, SingleWeightsFile);
        if (File.Exists(indexPath))
        {
            var weightMap = ReadWeightMap(indexPath);
            var byFile = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, file) in weightMap)
            {
                if (!byFile.TryGetValue(file, out var shard))
                {
                    var shardPath = Path.Combine(Folder, file);
                    if (file.Contains("..") || Path.IsPathRooted(file))
                    {
                        throw new ModelFormatException(indexPath, null, $"shard name '{file}' leaves the model folder");
                    }
                    if (!File.Exists(shardPath))
                    {
                        throw new ModelFormatException(indexPath, null, $"shard '{file}' (holding '{tensor}') is missing from {Folder}");
                    }
                    shard = SafetensorsFile.Open(shardPath);
                    byFile[file] = shard;
                    _shards.Add(shard);
                }
                if (shard.Find(tensor) is null)
                {
                    throw new ModelFormatException(shard.Path, null, $"the index places tensor '{tensor}' in this shard, but it is not there");
                }
            }
        }
        else if (File.Exists(single))
        {
            _shards.Add(SafetensorsFile.Open(single));
        }
        else
        {
            foreach (var f in Directory.GetFiles(Folder, "*.safetensors").Order(StringComparer.Ordinal))
            {
                _shards.Add(SafetensorsFile.Open(f));
            }
            if (_shards.Count == 0)
            {
                throw new ModelFormatException(Folder, null, "no weights: neither model.safetensors nor model.safetensors.index.json is present");
            }
        }
        foreach (var shard in _shards)
        {
            foreach (var t in shard.Tensors)
            {
                if (!_shardOf.TryAdd(t.Name, shard))
                {
                    throw new ModelFormatException(shard.Path, null, $"tensor '{t.Name}' appears in two shards");
                }
            }
        }
    }

    private static List<(string Tensor, string File)> ReadWeightMap(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(indexPath, null, "the index has no weight_map object");
            }
            var result = new List<(string, string)>();
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                {
                    throw new ModelFormatException(indexPath, null, $"weight_map entry '{p.Name}' is not a file name");
                }
                result.Add((p.Name, p.Value.GetString()!));
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(indexPath, e.BytePositionInLine, $"not valid JSON: {e.Message}");
        }
    }

    private string? ExistingFile(string name)
    {
        var p = Path.Combine(Folder, name);
        return File.Exists(p) ? p : null;
    }

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
        _shards.Clear();
    }
}
