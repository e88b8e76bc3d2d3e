using System.CommandLine;
using Flywheel.Engine;
using Flywheel.Engine.Sampling;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel chat --model MODEL [--system TEXT] [sampling options]</c>: an interactive conversation on stdin and
/// stdout. Each line is a user turn; the whole history is rendered through the model's chat template every turn
/// (the KV cache is reused up to the first token that changed), and the reply streams as it is generated.
/// <c>/reset</c> forgets the history, <c>/exit</c> or end of input quits. Ctrl-C stops the reply being generated;
/// a second Ctrl-C (or one while waiting for input) quits.
/// </summary>
public static class ChatCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A GGUF file, Hugging Face folder, pulled model or hub id.", Required = true };
        var system = new Option<string>("--system") { Description = "A system message to start the conversation with." };
        var generation = new GenerationArguments();
        var command = new Command("chat", "Chat with a model on the terminal.");
        command.Options.Add(model);
        command.Options.Add(system);
        generation.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var sampling = generation.Sampling(parse);
            var maxTokens = generation.MaxTokensValue(parse);
            var ctx = generation.ContextValue(parse);
            Threads.Apply(parse.GetValue(generation.Threads));
            var path = ModelResolver.Resolve(parse.GetValue(model)!);
            using var loaded = LoadedModel.Load(Path.GetFileNameWithoutExtension(path), path);
            return Repl(loaded, new Generation(loaded, ctx), sampling, maxTokens, parse.GetValue(system), Console.In, Generation.OpenStdout());
        }));
        return command;
    }

    private static int Repl(LoadedModel model, Generation generation, SamplingOptions sampling, int maxTokens, string? system, TextReader input, TextWriter output)
    {
        var interactive = !Console.IsInputRedirected;
        var generating = 0; // 1 while a reply is being generated (read by the Ctrl-C handler)
        var interrupts = 0;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl-C during a reply: stop the reply, keep the process. Otherwise let it end the process.
            if (Volatile.Read(ref generating) == 1 && Interlocked.Increment(ref interrupts) == 1)
            {
                e.Cancel = true;
                generation.Stop();
            }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var messages = new List<ChatTemplateMessage>();
            void Reset()
            {
                messages.Clear();
                if (system is { Length: > 0 }) messages.Add(new ChatTemplateMessage("system", system));
            }
            Reset();
            if (interactive)
            {
                output.WriteLine($"chatting with {model.Name} ({generation.ContextLength} tokens of context{(model.HasOwnTemplate ? "" : ", no chat template: plain text")}); /reset clears the history, /exit or Ctrl-D quits");
            }
            while (true)
            {
                if (interactive) output.Write("> ");
                var line = input.ReadLine();
                if (line is null) break;
                var text = line.Trim();
                if (text.Length == 0) continue;
                if (text is "/exit" or "/quit" or "/bye") break;
                if (text == "/reset")
                {
                    Reset();
                    output.WriteLine("(history cleared)");
                    continue;
                }
                messages.Add(new ChatTemplateMessage("user", line));
                var context = new ChatTemplateContext { AddGenerationPrompt = true };
                context.Messages.AddRange(messages);
                var prompt = model.TokenizeChatPrompt(model.RenderChat(context));
                if (prompt.Count >= generation.ContextLength)
                {
                    messages.RemoveAt(messages.Count - 1);
                    Console.Error.WriteLine($"flywheel: the conversation is {prompt.Count} tokens, more than the {generation.ContextLength}-token context; /reset to start over");
                    continue;
                }
                Interlocked.Exchange(ref interrupts, 0);
                Volatile.Write(ref generating, 1);
                GenerationResult reply;
                try
                {
                    reply = generation.Run(prompt, sampling, maxTokens, (_, piece) => output.Write(piece));
                }
                finally
                {
                    Volatile.Write(ref generating, 0);
                }
                output.WriteLine();
                if (Volatile.Read(ref interrupts) > 0) output.WriteLine("(stopped)");
                messages.Add(new ChatTemplateMessage("assistant", reply.Text));
            }
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
