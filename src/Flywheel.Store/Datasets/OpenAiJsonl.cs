using System.Text;
using System.Text.Json;

namespace Flywheel.Store.Datasets;

/// <summary>
/// OpenAI's chat fine-tuning format: UTF-8, one JSON object <c>{"messages": [...]}</c> per line. Export writes
/// exactly that; import reads it back, checking every line and naming the first bad one.
/// </summary>
public static class OpenAiJsonl
{
    public const string FormatName = "openai-jsonl";

    /// <summary>Writes examples, one line each; returns how many.</summary>
    public static async Task<int> WriteAsync(IEnumerable<DatasetExample> examples, TextWriter writer, CancellationToken cancellationToken = default)
    {
        int count = 0;
        foreach (var example in examples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The stored messages are compact JSON, so the line is built without a parse; it is one line because
            // compact JSON escapes every newline inside strings.
            await writer.WriteAsync("{\"messages\":");
            await writer.WriteAsync(example.MessagesJson);
            await writer.WriteAsync("}\n");
            count++;
        }
        await writer.FlushAsync(cancellationToken);
        return count;
    }

    /// <summary>
    /// Reads a file into examples (messages re-serialised compactly; split assigned with <paramref name="testFraction"/>).
    /// Blank lines are skipped. Throws <see cref="DatasetFormatException"/> naming the line for the first bad one:
    /// not JSON, not an object, no <c>messages</c>, a key other than <c>messages</c>, or messages that are not a
    /// valid conversation with an assistant answer.
    /// </summary>
    public static List<DatasetExample> Read(string path, double testFraction = 0)
    {
        var examples = new List<DatasetExample>();
        int number = 0;
        string name = Path.GetFileName(path);
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        string? line;
        while (true)
        {
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                throw new DatasetFormatException(name, number + 1, "not valid UTF-8");
            }
            if (line is null) break;
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string messages = ParseLine(name, number, line);
            examples.Add(new DatasetExample(messages, SplitAssigner.Assign(messages, testFraction)));
        }
        if (examples.Count == 0)
        {
            throw new DatasetFormatException(name, Math.Max(1, number), "the file holds no examples");
        }
        return examples;
    }

    private static string ParseLine(string file, int number, string line)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DatasetFormatException(file, number, $"not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetFormatException(file, number, "expected an object {\"messages\": [...]}");
            }
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != "messages")
                {
                    throw new DatasetFormatException(file, number, $"only \"messages\" is supported, found \"{property.Name}\"");
                }
            }
            if (!root.TryGetProperty("messages", out var messages))
            {
                throw new DatasetFormatException(file, number, "no \"messages\"");
            }
            try
            {
                ChatMessagesJson.Validate(messages, requireAssistant: true);
            }
            catch (ArgumentException e)
            {
                throw new DatasetFormatException(file, number, e.Message.Split(" (Parameter")[0]);
            }
            return JsonSerializer.Serialize(messages, ExampleMessages.Json);
        }
    }
}
