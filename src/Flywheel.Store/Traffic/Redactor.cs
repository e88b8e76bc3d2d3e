using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Flywheel.Store.Traffic;

/// <summary>
/// Replaces personal data in text with tokens before it is stored: e-mail addresses with <c>[EMAIL]</c>, phone
/// numbers with <c>[PHONE]</c>, identity numbers with <c>[ID]</c>. Thread-safe and stateless apart from its options.
/// </summary>
/// <remarks>
/// Patterns (digits are ASCII 0-9 only; a match never starts or ends inside a longer run of digits):
/// <list type="bullet">
/// <item>Chinese resident ID: 18 characters, a 6-digit area code, a birth date 18xx/19xx/20xx with a real month and
/// day, 3 digits, and a check character 0-9 or X that must satisfy ISO 7064 MOD 11-2 (GB 11643-1999). The checksum
/// rejects about 10 in 11 random 18-digit numbers, so order numbers and the like stay.</item>
/// <item>US social security number: <c>AAA-GG-SSSS</c> with dashes, excluding area 000, 666 and 9xx, group 00 and
/// serial 0000 (never issued).</item>
/// <item>E-mail: <c>local@domain.tld</c>.</item>
/// <item>Phone: international <c>+CC</c> followed by 7 to 14 more digits, optionally grouped by spaces, dots, dashes or
/// a parenthesised area code; US <c>(AAA) EEE-NNNN</c> or <c>AAA-EEE-NNNN</c> (separators required, so a bare
/// 10-digit number is left alone); Chinese mobile <c>1[3-9]</c> plus 9 digits, also grouped 3-4-4.</item>
/// </list>
/// </remarks>
public sealed partial class Redactor
{
    public const string EmailToken = "[EMAIL]";
    public const string PhoneToken = "[PHONE]";
    public const string IdToken = "[ID]";

    private static readonly int[] IdWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    private const string IdCheckChars = "10X98765432";

    // Keep non-ASCII text (Chinese) readable in the stored JSON instead of \uXXXX escapes.
    private static readonly JsonSerializerOptions JsonOut = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public Redactor(RedactionOptions? options = null)
    {
        Options = options ?? RedactionOptions.All;
    }

    public RedactionOptions Options { get; }

    /// <summary>The text with every match replaced; the same instance when nothing matched.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Identity numbers first: an 18-digit ID would otherwise lose its digits to the phone patterns.
        if (Options.IdentityNumbers)
        {
            text = ChineseId().Replace(text, m => IsValidChineseId(m.Value) ? IdToken : m.Value);
            text = UsSsn().Replace(text, IdToken);
        }
        if (Options.Emails)
        {
            text = Email().Replace(text, EmailToken);
        }
        if (Options.PhoneNumbers)
        {
            text = InternationalPhone().Replace(text, m => CountDigits(m.Value) is >= 8 and <= 15 ? PhoneToken : m.Value);
            text = UsPhone().Replace(text, PhoneToken);
            text = ChineseMobile().Replace(text, PhoneToken);
        }
        return text;
    }

    public string? RedactOrNull(string? text) => text is null ? null : Redact(text);

    /// <summary>
    /// Redacts every string value inside a JSON document (object keys and numbers are left alone), so the result is
    /// still valid JSON. Text that is not JSON is redacted as plain text.
    /// </summary>
    public string? RedactJson(string? json)
    {
        if (json is null) return null;
        // Fast path: nothing in the raw text matches (and no \u escape could hide a match), so nothing to rewrite.
        if (!json.Contains("\\u", StringComparison.Ordinal) && ReferenceEquals(Redact(json), json))
        {
            return json;
        }
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return Redact(json);
        }
        if (node is null) return json;
        if (node is JsonValue root)
        {
            return root.TryGetValue<string>(out var text) ? JsonValue.Create(Redact(text)).ToJsonString(JsonOut) : json;
        }
        RedactInside(node);
        return node.ToJsonString(JsonOut);
    }

    /// <summary>Replaces, in place, each string value held by an object or array (recursively).</summary>
    private void RedactInside(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
            {
                if (Replacement(obj[key]) is { } replaced) obj[key] = replaced;
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                if (Replacement(array[i]) is { } replaced) array[i] = replaced;
            }
        }
    }

    private JsonValue? Replacement(JsonNode? child)
    {
        if (child is JsonValue value)
        {
            if (!value.TryGetValue<string>(out var s)) return null;
            string r = Redact(s);
            return ReferenceEquals(r, s) ? null : JsonValue.Create(r);
        }
        if (child is not null) RedactInside(child);
        return null;
    }

    /// <summary>Applies the tenant's redaction to every free-text field of a record.</summary>
    public TrafficRecord Redact(TrafficRecord record) => record with
    {
        RequestJson = RedactJson(record.RequestJson)!,
        OutputText = RedactOrNull(record.OutputText),
        ReasoningText = RedactOrNull(record.ReasoningText),
        ToolCallsJson = RedactJson(record.ToolCallsJson),
    };

    /// <summary>Applies redaction to feedback's free text (correction and comment), for tenants with redaction on:
    /// a correction often repeats the personal data the answer held.</summary>
    public Feedback.FeedbackInput Redact(Feedback.FeedbackInput feedback)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var correction = feedback.Correction switch
        {
            { Text: { } text } => Feedback.Correction.FromText(Redact(text)),
            { MessagesJson: { } json } => Feedback.Correction.FromMessages(RedactJson(json)!),
            _ => null,
        };
        return feedback with { Correction = correction, Comment = RedactOrNull(feedback.Comment) };
    }

    /// <summary>True when an 18-character candidate satisfies ISO 7064 MOD 11-2 (its last character is the check).</summary>
    public static bool IsValidChineseId(string id)
    {
        if (id.Length != 18) return false;
        int sum = 0;
        for (int i = 0; i < 17; i++)
        {
            if (!char.IsAsciiDigit(id[i])) return false;
            sum += (id[i] - '0') * IdWeights[i];
        }
        return char.ToUpperInvariant(id[17]) == IdCheckChars[sum % 11];
    }

    private static int CountDigits(string s) => s.Count(char.IsAsciiDigit);

    [GeneratedRegex(@"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])")]
    private static partial Regex ChineseId();

    [GeneratedRegex(@"(?<![0-9-])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9-])")]
    private static partial Regex UsSsn();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex Email();

    [GeneratedRegex(@"(?<![0-9A-Za-z+])\+[0-9]{1,3}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){2,6}(?![0-9])")]
    private static partial Regex InternationalPhone();

    [GeneratedRegex(@"(?<![0-9])(?:\([0-9]{3}\) ?|[0-9]{3}[-. ])[0-9]{3}[-. ][0-9]{4}(?![0-9])")]
    private static partial Regex UsPhone();

    [GeneratedRegex(@"(?<![0-9])1[3-9][0-9](?:[0-9]{8}|[ -][0-9]{4}[ -][0-9]{4})(?![0-9])")]
    private static partial Regex ChineseMobile();
}
