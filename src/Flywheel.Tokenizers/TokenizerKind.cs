namespace Flywheel.Tokenizers;

/// <summary>The segmentation algorithm behind a <see cref="Tokenizer"/>.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2 style byte-level BPE (GGUF <c>tokenizer.ggml.model = "gpt2"</c>, HF model type BPE).</summary>
    BytePairEncoding,

    /// <summary>SentencePiece-style merges by score with byte fallback (GGUF <c>tokenizer.ggml.model = "llama"</c>).</summary>
    SentencePiece,
}
