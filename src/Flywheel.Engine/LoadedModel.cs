using Flywheel.Formats;
using Flywheel.Formats.Gguf;
using Flywheel.Formats.HuggingFace;
using Flywheel.Models;
using Flywheel.Tokenizers;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Engine;

/// <summary>
/// A model ready to generate: weights, tokenizer and chat template, loaded together from one GGUF file or
/// Hugging Face folder. Immutable and thread-safe; dispose to unmap the weights.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    /// <summary>
    /// Used when a model ships no chat template (base and story models such as the bundled demo): the messages'
    /// text, one per line, so a completion model still continues what the user wrote.
    /// </summary>
    public const string PlainTemplate = "{% for message in messages %}{{ message['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}";

    private LoadedModel(string name, Model model, ITokenizer tokenizer, ChatTemplate template, bool hasOwnTemplate)
    {
        Name = name;
        Model = model;
        Tokenizer = tokenizer;
        Template = template;
        HasOwnTemplate = hasOwnTemplate;
    }

    public string Name { get; }
    public Model Model { get; }
    public ITokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }

    /// <summary>False when <see cref="PlainTemplate"/> stands in for a missing template.</summary>
    public bool HasOwnTemplate { get; }

    public static LoadedModel Load(string name, string path)
    {
        var model = Model.Load(path);
        try
        {
            ITokenizer tokenizer;
            string? templateSource;
            if (model.GgufFile is { } gguf)
            {
                tokenizer = TokenizerLoader.FromGguf(gguf);
                templateSource = gguf.TryGetString(GgufKeys.ChatTemplate);
            }
            else
            {
                tokenizer = TokenizerLoader.FromPath(path);
                templateSource = ReadHfTemplate(path);
            }
            var own = templateSource is { Length: > 0 };
            ChatTemplate template;
            try
            {
                template = ChatTemplate.Parse(own ? templateSource! : PlainTemplate);
            }
            catch (ChatTemplateException e)
            {
                throw new ModelFormatException(path, null, $"the model's chat template does not parse: {e.Message}");
            }
            return new LoadedModel(name, model, tokenizer, template, own);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Renders <paramref name="context"/> with this model's template, filling in its BOS and EOS text.</summary>
    public string RenderChat(ChatTemplateContext context)
    {
        context.BosToken ??= Tokenizer.BosId is { } bos ? Tokenizer.TokenText(bos) : "";
        context.EosToken ??= Tokenizer.EosId is { } eos ? Tokenizer.TokenText(eos) : "";
        return Template.Render(context);
    }

    /// <summary>
    /// Tokenizes a rendered chat prompt: special-token text is parsed (the template wrote it on purpose), and BOS is
    /// added when the model asks for it and the template did not already write it.
    /// </summary>
    public List<int> TokenizeChatPrompt(string prompt)
    {
        var ids = new List<int>(Tokenizer.Encode(prompt, addSpecial: false, parseSpecial: true));
        if (Tokenizer.AddBos && Tokenizer.BosId is { } bos && (ids.Count == 0 || ids[0] != bos))
        {
            ids.Insert(0, bos);
        }
        return ids;
    }

    /// <summary>Tokenizes raw completion text as the model's metadata says (BOS when asked), special text not parsed.</summary>
    public List<int> TokenizeRaw(string prompt) => [.. Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: false)];

    private static string? ReadHfTemplate(string folder)
    {
        var path = Path.Combine(folder, HfCheckpoint.TokenizerConfigFile);
        if (!File.Exists(path)) return null;
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?["chat_template"] switch
            {
                System.Text.Json.Nodes.JsonValue v => v.GetValue<string>(),
                _ => null,
            };
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ModelFormatException(path, e.BytePositionInLine, $"not valid JSON: {e.Message}");
        }
    }

    public void Dispose() => Model.Dispose();
}
