using Flywheel.Formats.HuggingFace.Hub;
using Spectre.Console;

namespace Flywheel.Cli;

/// <summary>
/// Downloads a model from the hub into the models folder (see <see cref="ModelResolver"/>) with a progress bar when
/// the output is a terminal, plain lines otherwise. Returns the path to load: the .gguf (first shard) or the folder.
/// </summary>
internal static class HubPuller
{
    public static string Pull(HubModelId id, string? endpoint, TextWriter log, bool progressOnStderr, string? announce = null)
    {
        try
        {
            return PullAsync(id, endpoint, log, progressOnStderr, announce).GetAwaiter().GetResult();
        }
        catch (HubException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    private static async Task<string> PullAsync(HubModelId id, string? endpoint, TextWriter log, bool progressOnStderr, string? announce)
    {
        using var hub = new HubClient(ModelResolver.Endpoint(endpoint), Environment.GetEnvironmentVariable(HubClient.TokenVariable));
        var files = HubFileSelector.Select(id.Repo, await hub.ListFilesAsync(id.Repo), id.Selector);
        if (announce is not null) log.WriteLine(announce);
        var folder = ModelResolver.RepoFolder(id);
        var interactive = progressOnStderr ? !Console.IsErrorRedirected : !Console.IsOutputRedirected;
        if (interactive)
        {
            var console = progressOnStderr
                ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
                : AnsiConsole.Console;
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                    new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    foreach (var file in files)
                    {
                        var task = context.AddTask(Markup.Escape(file.Path), maxValue: Math.Max(1, file.Size));
                        var progress = new SyncProgress(p =>
                        {
                            if (p.Total > 0) task.MaxValue = p.Total;
                            task.Value = p.Downloaded;
                        });
                        await hub.DownloadAsync(id.Repo, file, Target(folder, file), progress);
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }
                });
        }
        else
        {
            foreach (var file in files)
            {
                var lastTenth = -1L;
                var announced = false;
                var resumeAnnounced = false;
                var progress = new SyncProgress(p =>
                {
                    if (!announced || (p.Resumed && !resumeAnnounced))
                    {
                        log.WriteLine(!p.Resumed ? $"{file.Path}: downloading {p.Total} bytes"
                            : p.Downloaded == p.Total && !announced ? $"{file.Path}: already here"
                            : $"{file.Path}: resuming at {p.Downloaded} of {p.Total} bytes");
                        announced = true;
                        resumeAnnounced |= p.Resumed;
                    }
                    var tenth = p.Total > 0 ? p.Downloaded * 10 / p.Total : -1;
                    if (tenth > lastTenth && tenth is > 0 and < 10) log.WriteLine($"{file.Path}: {tenth * 10}%");
                    lastTenth = Math.Max(lastTenth, tenth);
                });
                await hub.DownloadAsync(id.Repo, file, Target(folder, file), progress);
                log.WriteLine($"{file.Path}: done");
            }
        }
        var gguf = files.Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).Select(f => f.Path).Order(StringComparer.Ordinal).FirstOrDefault();
        return gguf is null ? folder : Target(folder, gguf);
    }

    private static string Target(string folder, HubFile file) => Target(folder, file.Path);

    private static string Target(string folder, string relative)
    {
        var full = Path.GetFullPath(Path.Combine(folder, relative));
        // A hostile listing must not write outside the repository's folder ("../../.bashrc").
        if (!full.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new HubException($"the hub listed a file outside the repository: {relative}");
        }
        return full;
    }

    /// <summary>Reports on the downloading thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
