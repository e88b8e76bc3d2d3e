using Flywheel.Testing;

namespace Flywheel.Tokenizers.Tests;

/// <summary>Tokenizers loaded once per test run (loading a 150k-token vocabulary takes a moment).</summary>
internal static class TestTokenizers
{
    private static readonly Lazy<Tokenizer> Qwen2Lazy = new(() => TokenizerLoader.FromGguf(VocabTestCases.VocabPath("qwen2")));
    private static readonly Lazy<Tokenizer> LlamaBpeLazy = new(() => TokenizerLoader.FromGguf(VocabTestCases.VocabPath("llama-bpe")));
    private static readonly Lazy<Tokenizer> LlamaSpmLazy = new(() => TokenizerLoader.FromGguf(VocabTestCases.VocabPath("llama-spm")));
    private static readonly Lazy<Tokenizer> Gpt2Lazy = new(() => TokenizerLoader.FromGguf(VocabTestCases.VocabPath("gpt-2")));
    private static readonly Lazy<Tokenizer> DeepSeekLazy = new(() => TokenizerLoader.FromGguf(VocabTestCases.VocabPath("deepseek-llm")));
    private static readonly Lazy<Tokenizer> Qwen3Lazy = new(() => TokenizerLoader.FromHuggingFace(TestPaths.SharedFile("testdata", "hf", "qwen3", "tokenizer.json")));
    private static readonly Lazy<Tokenizer> SmolLm2Lazy = new(() => TokenizerLoader.FromHuggingFace(TestPaths.SharedFile("testdata", "hf", "smollm2", "tokenizer.json")));

    public static Tokenizer Qwen2 => Qwen2Lazy.Value;
    public static Tokenizer LlamaBpe => LlamaBpeLazy.Value;
    public static Tokenizer LlamaSpm => LlamaSpmLazy.Value;
    public static Tokenizer Gpt2 => Gpt2Lazy.Value;
    public static Tokenizer DeepSeek => DeepSeekLazy.Value;
    public static Tokenizer Qwen3 => Qwen3Lazy.Value;
    public static Tokenizer SmolLm2 => SmolLm2Lazy.Value;

    public static Tokenizer ByName(string name) => name switch
    {
        "qwen2" => Qwen2,
        "llama-bpe" => LlamaBpe,
        "llama-spm" => LlamaSpm,
        "gpt-2" => Gpt2,
        "deepseek-llm" => DeepSeek,
        "qwen3" => Qwen3,
        "smollm2" => SmolLm2,
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> AllNames => ["qwen2", "llama-bpe", "llama-spm", "gpt-2", "deepseek-llm", "qwen3", "smollm2"];
}
