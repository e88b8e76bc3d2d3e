using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using System.Text.Json;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>Converts JSON and CLR values into runtime values, as Python's json.loads would produce them.</summary>
internal static class PyValues
{
    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var dict = new PyDict();
                foreach (var (key, value) in obj)
                {
                    dict.Set(key, FromJson(value));
                }

                return dict;
            case JsonArray array:
                return array.Select(FromJson).ToList();
            default:
                return node.GetValueKind() switch
                {
                    JsonValueKind.String => node.GetValue<string>(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null or JsonValueKind.Undefined => null,
                    JsonValueKind.Number => ParseNumber(node.ToJsonString()),
                    _ => throw new ArgumentException($"unsupported JSON value {node.ToJsonString()}"),
                };
        }
    }

    public static object? FromJson(JsonElement element) => FromJson(JsonSerializer.SerializeToNode(element));

    // Python's json module makes integers of literals without a fraction or exponent, floats otherwise.
    private static object ParseNumber(string text)
    {
        if (text.IndexOfAny(['.', 'e', 'E']) < 0)
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                ? (object)l
                : BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static object? FromClr(object? value) => value switch
    {
        null => null,
        string or bool or long or double or BigInteger => value,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        float f => (double)f,
        decimal m => (double)m,
        JsonNode node => FromJson(node),
        JsonElement element => FromJson(element),
        ChatTemplateMessage message => FromJson(message.Json),
        IDictionary dictionary => FromDictionary(dictionary),
        IEnumerable enumerable => enumerable.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ArgumentException($"unsupported template value of type {value.GetType().Name}"),
    };

    private static PyDict FromDictionary(IDictionary dictionary)
    {
        var dict = new PyDict();
        foreach (DictionaryEntry entry in dictionary)
        {
            dict.Set(FromClr(entry.Key), FromClr(entry.Value));
        }

        return dict;
    }
}
