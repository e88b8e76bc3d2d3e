using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Cli.Inspection;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel inspect PATH [--json]</c>: what a model file or folder holds.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A GGUF file or a Hugging Face model folder." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of text." };
        var command = new Command("inspect", "Show a model's format, architecture, metadata and tensors.");
        command.Arguments.Add(path);
        command.Options.Add(json);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var summary = ModelInspector.Inspect(parse.GetValue(path)!);
            var stdout = Console.OpenStandardOutput();
            var text = parse.GetValue(json) ? ToJson(summary) : ToText(summary);
            var bytes = Encoding.UTF8.GetBytes(text);
            stdout.Write(bytes);
            stdout.Flush();
            return 0;
        }));
        return command;
    }

    internal static string ToJson(ModelSummary s)
    {
        var tensors = new JsonArray();
        foreach (var t in s.Tensors)
        {
            tensors.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["type"] = t.Type,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
            });
        }
        var doc = new JsonObject
        {
            ["format"] = s.Format,
            ["version"] = s.Version,
            ["path"] = s.Path,
            ["architecture"] = s.Architecture,
            ["parameter_count"] = s.ParameterCount,
            ["context_length"] = s.ContextLength,
            ["tokenizer_model"] = s.TokenizerModel,
            ["has_chat_template"] = s.HasChatTemplate,
            ["tensor_count"] = s.Tensors.Count,
            ["tensors"] = tensors,
            ["metadata"] = s.Metadata.DeepClone(),
        };
        var options = new JsonSerializerOptions
        {
            WriteIndented = true,
            // Keep Chinese and other non-ASCII text readable instead of \uXXXX escapes.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        return doc.ToJsonString(options) + "\n";
    }

    internal static string ToText(ModelSummary s)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"format:          {s.Format}{(s.Version is { } v ? $" v{v}" : "")}");
        sb.AppendLine($"architecture:    {s.Architecture ?? "(none)"}");
        sb.AppendLine($"parameters:      {s.ParameterCount:N0} ({HumanCount(s.ParameterCount)})");
        sb.AppendLine($"context length:  {(s.ContextLength?.ToString() ?? "(unknown)")}");
        sb.AppendLine($"tokenizer:       {s.TokenizerModel ?? "(none)"}");
        sb.AppendLine($"chat template:   {(s.HasChatTemplate ? "yes" : "no")}");
        sb.AppendLine($"metadata keys:   {s.Metadata.Count}");
        sb.AppendLine($"tensors:         {s.Tensors.Count}");
        if (s.Tensors.Count > 0)
        {
            var nameWidth = Math.Min(48, s.Tensors.Max(t => t.Name.Length));
            foreach (var t in s.Tensors)
            {
                sb.AppendLine($"  {t.Name.PadRight(nameWidth)}  {t.Type,-7}  [{string.Join(", ", t.Shape)}]");
            }
        }
        return sb.ToString();
    }

    private static string HumanCount(long n) => n switch
    {
        >= 1_000_000_000 => $"{n / 1e9:0.##}B",
        >= 1_000_000 => $"{n / 1e6:0.##}M",
        >= 1_000 => $"{n / 1e3:0.##}K",
        _ => n.ToString(),
    };
}
