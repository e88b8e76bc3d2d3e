namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>
/// Decides which files of a repository <c>pull</c> downloads. With a selector (the part after <c>:</c>) it picks one
/// .gguf by exact file name or by quantization tag (<c>Q4_K_M</c> matches <c>*Q4_K_M*.gguf</c>, case-insensitive).
/// Without one, a GGUF repository must hold exactly one .gguf; a safetensors repository gives config.json, the
/// tokenizer and generation files, every *.safetensors and its index.
/// </summary>
public static class HubFileSelector
{
    private static readonly string[] CheckpointSideFiles =
    [
        "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
        "special_tokens_map.json", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
    ];

    public static IReadOnlyList<HubFile> Select(string repo, IReadOnlyList<HubFile> files, string? selector)
    {
        var ggufs = files.Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
        if (selector is { Length: > 0 })
        {
            var exact = files.Where(f => string.Equals(f.Path, selector, StringComparison.OrdinalIgnoreCase)
                || string.Equals(System.IO.Path.GetFileName(f.Path), selector, StringComparison.OrdinalIgnoreCase)).ToList();
            if (exact.Count == 1) return exact;
            var tagged = ggufs.Where(f => System.IO.Path.GetFileName(f.Path).Contains(selector, StringComparison.OrdinalIgnoreCase)).ToList();
            // A sharded GGUF (name-00001-of-00003.gguf) is one model in several files: keep them together.
            if (tagged.Count == 1 || (tagged.Count > 1 && tagged.All(f => IsShardOfSameModel(f.Path, tagged[0].Path)))) return tagged;
            if (tagged.Count == 0)
            {
                throw new HubException($"{repo} has no .gguf file matching '{selector}'; it has: {List(ggufs)}");
            }
            throw new HubException($"'{selector}' matches {tagged.Count} files in {repo}: {List(tagged)}; name one with {repo}:FILE");
        }
        if (ggufs.Count == 1) return ggufs;
        if (ggufs.Count > 1)
        {
            if (ggufs.All(f => IsShardOfSameModel(f.Path, ggufs[0].Path))) return ggufs;
            throw new HubException($"{repo} has {ggufs.Count} .gguf files; pick one with {repo}:QUANT or {repo}:FILE: {List(ggufs)}");
        }
        var weights = files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            || f.Path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase)).ToList();
        if (weights.Count == 0 || !files.Any(f => f.Path == "config.json"))
        {
            throw new HubException($"{repo} holds neither a .gguf file nor a safetensors checkpoint (config.json and *.safetensors)");
        }
        // Top-level files only: subfolders hold other variants (onnx/, original/) that a checkpoint does not need.
        return files.Where(f => !f.Path.Contains('/') && (CheckpointSideFiles.Contains(f.Path) || weights.Contains(f))).ToList();
    }

    private static string List(IEnumerable<HubFile> files) => string.Join(", ", files.Select(f => f.Path));

    private static bool IsShardOfSameModel(string a, string b)
    {
        static string? Stem(string p)
        {
            var m = System.Text.RegularExpressions.Regex.Match(p, @"^(.*)-\d{5}-of-\d{5}\.gguf$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
            return m.Success ? m.Groups[1].Value : null;
        }
        return Stem(a) is { } s && s == Stem(b);
    }
}
