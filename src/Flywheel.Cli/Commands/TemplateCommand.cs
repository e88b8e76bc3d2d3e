using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Formats.Gguf;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel template (--model PATH | --template FILE.jinja) --messages MESSAGES.json [--tools TOOLS.json]
/// [--add-generation-prompt] [--var NAME=VALUE ...]</c>: prints the prompt a chat template renders, exactly
/// (no trailing newline added), as transformers' apply_chat_template would.
/// </summary>
public static class TemplateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A GGUF file or Hugging Face model folder whose chat template to use." };
        var template = new Option<string>("--template") { Description = "A Jinja chat template file." };
        var messages = new Option<string>("--messages")
        {
            Description = "JSON file: an array of messages, or an object with \"messages\" (and optionally \"tools\" and other variables).",
            Required = true,
        };
        var tools = new Option<string>("--tools") { Description = "JSON file with an array of tool definitions." };
        var addGenerationPrompt = new Option<bool>("--add-generation-prompt") { Description = "End with the assistant turn header." };
        var variables = new Option<string[]>("--var")
        {
            Description = "Extra template variable NAME=VALUE (VALUE parsed as JSON when valid, e.g. true or 3; else a string). Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("template", "Render a chat template over a conversation and print the prompt.");
        command.Options.Add(model);
        command.Options.Add(template);
        command.Options.Add(messages);
        command.Options.Add(tools);
        command.Options.Add(addGenerationPrompt);
        command.Options.Add(variables);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var prompt = Render(
                parse.GetValue(model),
                parse.GetValue(template),
                parse.GetValue(messages)!,
                parse.GetValue(tools),
                parse.GetValue(addGenerationPrompt),
                parse.GetValue(variables) ?? []);
            var stdout = Console.OpenStandardOutput();
            stdout.Write(Encoding.UTF8.GetBytes(prompt));
            stdout.Flush();
            return 0;
        }));
        return command;
    }

    internal static string Render(string? modelPath, string? templatePath, string messagesPath, string? toolsPath, bool addGenerationPrompt, IEnumerable<string> variables)
    {
        if ((modelPath is null) == (templatePath is null))
        {
            throw new CliUsageException("give exactly one of --model PATH or --template FILE");
        }

        var source = templatePath is not null
            ? new TemplateSource(File.ReadAllText(templatePath), new Dictionary<string, object?>())
            : LoadFromModel(modelPath!);

        ChatTemplate template;
        ChatTemplateContext context;
        try
        {
            template = ChatTemplate.Parse(source.Template);
            context = ChatTemplateContext.FromJson(
                ParseJsonFile(messagesPath, "--messages"),
                toolsPath is null ? null : ParseJsonFile(toolsPath, "--tools"));
        }
        catch (ChatTemplateException e)
        {
            throw new CliUsageException($"chat template: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }

        // transformers passes the tokenizer's special tokens (bos_token, eos_token, pad_token, ...) to the template.
        foreach (var (name, value) in source.SpecialTokens)
        {
            switch (name)
            {
                case "bos_token":
                    context.BosToken ??= value as string;
                    break;
                case "eos_token":
                    context.EosToken ??= value as string;
                    break;
                default:
                    context.Variables.TryAdd(name, value);
                    break;
            }
        }
        if (addGenerationPrompt)
        {
            context.AddGenerationPrompt = true;
        }

        foreach (var assignment in variables)
        {
            var (name, value) = ParseVariable(assignment);
            context.Variables[name] = value;
        }

        try
        {
            return template.Render(context);
        }
        catch (ChatTemplateException e)
        {
            throw new CliUsageException($"chat template: {e.Message}");
        }
    }

    /// <summary>NAME=VALUE; VALUE is JSON when it parses (true, 3, "x", [..]), otherwise the raw string.</summary>
    internal static (string Name, object? Value) ParseVariable(string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
        {
            throw new CliUsageException($"--var expects NAME=VALUE, got '{assignment}'");
        }

        var name = assignment[..eq];
        var text = assignment[(eq + 1)..];
        try
        {
            var node = JsonNode.Parse(text);
            return (name, node is null ? null : (object)node);
        }
        catch (JsonException)
        {
            return (name, text);
        }
    }

    internal sealed record TemplateSource(string Template, IReadOnlyDictionary<string, object?> SpecialTokens);

    private static readonly string[] SpecialTokenNames =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    internal static TemplateSource LoadFromModel(string path)
    {
        if (Directory.Exists(path))
        {
            return LoadFromHuggingFaceFolder(path);
        }

        if (!File.Exists(path))
        {
            throw new CliUsageException($"no such model file or folder: {path}");
        }

        using var gguf = GgufFile.Open(path);
        var template = gguf.TryGetString(GgufKeys.ChatTemplate)
            ?? throw new CliUsageException($"{path} has no {GgufKeys.ChatTemplate} metadata; pass --template FILE");
        var tokens = new Dictionary<string, object?>();
        foreach (var (name, key) in new[]
                 {
                     ("bos_token", GgufKeys.TokenizerBosId), ("eos_token", GgufKeys.TokenizerEosId),
                     ("unk_token", GgufKeys.TokenizerUnknownId), ("pad_token", GgufKeys.TokenizerPaddingId),
                 })
        {
            if (GgufToken(gguf, key) is { } text)
            {
                tokens[name] = text;
            }
        }

        return new TemplateSource(template, tokens);
    }

    private static string? GgufToken(GgufFile gguf, string idKey)
    {
        var id = gguf.TryGetInt64(idKey);
        var tokens = gguf.TryGetArray(GgufKeys.TokenizerTokens);
        return id is long i && tokens is not null && i >= 0 && i < tokens.Length ? tokens.Items.GetValue(i) as string : null;
    }

    // transformers keeps the template in tokenizer_config.json ("chat_template": a string, or a list of
    // {name, template} with a "default"), or in newer exports in chat_template.jinja / chat_template.json.
    private static TemplateSource LoadFromHuggingFaceFolder(string folder)
    {
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var config = File.Exists(configPath) ? ParseJsonFile(configPath, "tokenizer_config.json") as JsonObject : null;
        string? template = null;
        var jinjaPath = Path.Combine(folder, "chat_template.jinja");
        var jsonPath = Path.Combine(folder, "chat_template.json");
        if (File.Exists(jinjaPath))
        {
            template = File.ReadAllText(jinjaPath);
        }
        else if (File.Exists(jsonPath))
        {
            template = SelectTemplate((ParseJsonFile(jsonPath, "chat_template.json") as JsonObject)?["chat_template"]);
        }
        else
        {
            template = SelectTemplate(config?["chat_template"]);
        }

        if (template is null)
        {
            throw new CliUsageException($"{folder} has no chat template (tokenizer_config.json \"chat_template\" or chat_template.jinja); pass --template FILE");
        }

        var tokens = new Dictionary<string, object?>();
        foreach (var name in SpecialTokenNames)
        {
            if (TokenText(config?[name]) is { } text)
            {
                tokens[name] = text;
            }
        }

        if (config?["additional_special_tokens"] is JsonArray extra)
        {
            tokens["additional_special_tokens"] = extra.Select(TokenText).Where(t => t is not null).ToList();
        }

        return new TemplateSource(template, tokens);
    }

    private static string? SelectTemplate(JsonNode? node) => node switch
    {
        JsonValue value => value.GetValue<string>(),
        JsonArray named => named.OfType<JsonObject>().FirstOrDefault(t => (string?)t["name"] == "default")?["template"]?.GetValue<string>(),
        _ => null,
    };

    // Special tokens are either a string or an AddedToken object {"content": ...}.
    private static string? TokenText(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        JsonObject obj => obj["content"]?.GetValue<string>(),
        _ => null,
    };

    private static JsonNode ParseJsonFile(string path, string what)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) ?? throw new CliUsageException($"{what}: {path} holds JSON null");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"{what}: {path} is not valid JSON: {e.Message}");
        }
    }
}
