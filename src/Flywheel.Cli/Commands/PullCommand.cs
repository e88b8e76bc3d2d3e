using System.CommandLine;
using Flywheel.Formats.HuggingFace.Hub;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel pull ORG/REPO[:FILE_OR_QUANT] [--endpoint URL]</c>: downloads a model from the Hugging Face hub into
/// the models folder (<c>$FLYWHEEL_HOME/models</c>, default <c>~/.flywheel/models</c>) and prints its local path on
/// the last line. Interrupted downloads resume; every file is checked against the hub's hash before it is kept.
/// </summary>
public static class PullCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "ORG/REPO, optionally :FILE or :QUANT (e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M)." };
        var endpoint = new Option<string>("--endpoint") { Description = $"Hub address (default ${HubClient.EndpointVariable} or {HubClient.DefaultEndpoint})." };
        var command = new Command("pull", "Download a model from the Hugging Face hub.");
        command.Arguments.Add(model);
        command.Options.Add(endpoint);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var text = parse.GetValue(model)!;
            if (!HubModelId.TryParse(text, out var id)) throw new CliUsageException($"not a hub model id: '{text}' (expected ORG/REPO or ORG/REPO:QUANT)");
            var path = HubPuller.Pull(id, parse.GetValue(endpoint), Console.Out, progressOnStderr: false);
            Console.Out.WriteLine(path);
            return 0;
        }));
        return command;
    }
}
