using System.CommandLine;
using Flywheel.Engine;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel run --model MODEL --prompt TEXT [--raw] [--ids] [sampling options]</c>: one completion, streamed to
/// stdout. The prompt goes through the model's chat template as a single user message (with the generation prompt)
/// unless <c>--raw</c>, which tokenizes it as it stands (BOS as the model's metadata says, special-token text read
/// as plain text). <c>--ids</c> prints the generated token ids as one JSON array instead of the text.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A GGUF file, Hugging Face folder, pulled model or hub id (ORG/REPO[:QUANT]).", Required = true };
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt.", Required = true };
        var raw = new Option<bool>("--raw") { Description = "Use the prompt as it stands, without the chat template." };
        var ids = new Option<bool>("--ids") { Description = "Print the generated token ids as one JSON array instead of the text." };
        var generation = new GenerationArguments();
        var command = new Command("run", "Generate a completion for one prompt.");
        command.Options.Add(model);
        command.Options.Add(prompt);
        command.Options.Add(raw);
        command.Options.Add(ids);
        generation.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var sampling = generation.Sampling(parse);
            var maxTokens = generation.MaxTokensValue(parse);
            var ctx = generation.ContextValue(parse);
            Threads.Apply(parse.GetValue(generation.Threads));
            var path = ModelResolver.Resolve(parse.GetValue(model)!);
            using var loaded = LoadedModel.Load(Path.GetFileNameWithoutExtension(path), path);
            var text = parse.GetValue(prompt)!;
            List<int> promptIds;
            if (parse.GetValue(raw))
            {
                promptIds = loaded.TokenizeRaw(text);
            }
            else
            {
                var context = new ChatTemplateContext { AddGenerationPrompt = true };
                context.Messages.Add(new ChatTemplateMessage("user", text));
                promptIds = loaded.TokenizeChatPrompt(loaded.RenderChat(context));
            }
            if (promptIds.Count == 0) throw new CliUsageException("the prompt is empty (and the model adds no BOS token)");
            var generator = new Generation(loaded, ctx);
            generator.CheckFits(promptIds);
            using var stdout = Generation.OpenStdout();
            var printIds = parse.GetValue(ids);
            var result = generator.Run(promptIds, sampling, maxTokens, (_, piece) =>
            {
                if (!printIds) stdout.Write(piece);
            });
            stdout.Write(printIds ? "[" + string.Join(", ", result.TokenIds) + "]\n" : "\n");
            return 0;
        }));
        return command;
    }
}
