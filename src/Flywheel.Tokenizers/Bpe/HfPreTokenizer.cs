using System.Text.Json;
using System.Text.RegularExpressions;

namespace Flywheel.Tokenizers.Bpe;

/// <summary>
/// Reads a tokenizer.json <c>pre_tokenizer</c> into split patterns: Split (behavior Isolated) keeps its regex,
/// ByteLevel with use_regex adds GPT-2's pattern, Digits adds \p{N} (or \p{N}+), Sequence reads each part in order.
/// Anything else is refused rather than approximated.
/// </summary>
internal sealed class HfPreTokenizer
{
    private readonly List<string> _patterns = [];

    public IReadOnlyList<string> Patterns => _patterns;

    /// <summary>A ByteLevel step was present (the text is mapped to GPT-2 byte characters before BPE).</summary>
    public bool SawByteLevel { get; private set; }

    /// <summary>ByteLevel's add_prefix_space, honoured when ByteLevel comes first (it then sees the whole text).</summary>
    public bool AddPrefixSpace { get; private set; }

    public void Add(JsonElement step)
    {
        string type = step.GetProperty("type").GetString()!;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in step.GetProperty("pretokenizers").EnumerateArray())
                {
                    Add(inner);
                }
                break;
            case "Split":
                {
                    string behavior = step.TryGetProperty("behavior", out var b) ? b.GetString()! : "Isolated";
                    bool invert = step.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True;
                    if (behavior != "Isolated" || invert)
                    {
                        throw new NotSupportedException($"tokenizer.json Split with behavior '{behavior}'{(invert ? " inverted" : "")} is not supported");
                    }
                    var pattern = step.GetProperty("pattern");
                    if (pattern.TryGetProperty("Regex", out var regex))
                    {
                        _patterns.Add(regex.GetString()!);
                    }
                    else if (pattern.TryGetProperty("String", out var literal))
                    {
                        _patterns.Add(Regex.Escape(literal.GetString()!));
                    }
                    else
                    {
                        throw new NotSupportedException($"tokenizer.json Split pattern {pattern} is not supported");
                    }
                    break;
                }
            case "ByteLevel":
                {
                    // HF defaults: add_prefix_space = true, use_regex = true.
                    bool prefix = !step.TryGetProperty("add_prefix_space", out var aps) || aps.ValueKind != JsonValueKind.False;
                    bool useRegex = !step.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False;
                    if (prefix)
                    {
                        if (_patterns.Count > 0)
                        {
                            throw new NotSupportedException("tokenizer.json ByteLevel with add_prefix_space after another split is not supported");
                        }
                        AddPrefixSpace = true;
                    }
                    if (useRegex)
                    {
                        _patterns.Add(PreTokenizerFamilies.Gpt2);
                    }
                    SawByteLevel = true;
                    break;
                }
            case "Digits":
                {
                    bool individual = step.TryGetProperty("individual_digits", out var d) && d.ValueKind == JsonValueKind.True;
                    _patterns.Add(individual ? @"\p{N}" : @"\p{N}+");
                    break;
                }
            default:
                throw new NotSupportedException($"tokenizer.json pre-tokenizer '{type}' is not supported");
        }
    }
}
