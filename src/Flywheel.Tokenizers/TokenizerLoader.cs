using Flywheel.Formats.Gguf;

namespace Flywheel.Tokenizers;

/// <summary>
/// Builds a <see cref="Tokenizer"/> from a GGUF file's tokenizer metadata or from a Hugging Face tokenizer.json.
/// Unsupported tokenizers (WordPiece, Unigram, RWKV, regex families llama.cpp implements in code) throw
/// <see cref="NotSupportedException"/> naming what was found; malformed metadata throws <see cref="InvalidDataException"/>.
/// </summary>
public static partial class TokenizerLoader
{
    /// <summary>
    /// Loads from a path: a .gguf file, a tokenizer.json file, or a folder holding tokenizer.json
    /// (tokenizer_config.json beside it is read too when present).
    /// </summary>
    public static Tokenizer FromPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            var json = Path.Combine(path, "tokenizer.json");
            if (!File.Exists(json))
            {
                throw new FileNotFoundException($"no tokenizer.json in folder '{path}'", json);
            }
            return FromHuggingFace(json);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no such file or folder: '{path}'", path);
        }
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return FromHuggingFace(path);
        }
        using var file = GgufFile.Open(path);
        return FromGguf(file);
    }

    /// <summary>Loads from the GGUF file at <paramref name="path"/> (only its metadata is read).</summary>
    public static Tokenizer FromGguf(string path)
    {
        using var file = GgufFile.Open(path);
        return FromGguf(file);
    }
}
