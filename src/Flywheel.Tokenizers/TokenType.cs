namespace Flywheel.Tokenizers;

/// <summary>
/// The kind of a vocabulary entry, numbered as GGUF's <c>tokenizer.ggml.token_type</c> stores it
/// (llama.cpp's <c>llama_token_type</c>).
/// </summary>
public enum TokenType
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,

    /// <summary>A special token (BOS, EOS, &lt;|im_start|&gt;, ...). Matched in text only when parsing specials.</summary>
    Control = 3,

    /// <summary>An added token that is not special (Qwen's &lt;think&gt;). Always matched in text, as llama.cpp and HF tokenizers do.</summary>
    UserDefined = 4,
    Unused = 5,

    /// <summary>A byte-fallback token, <c>&lt;0xXX&gt;</c>.</summary>
    Byte = 6,
}
