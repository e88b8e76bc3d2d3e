using System.CommandLine;
using Flywheel.Server;
using Flywheel.Store;
using Flywheel.Store.Traffic;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel serve [--model [NAME=]MODEL ...] [--host 127.0.0.1] [--port 8080] [--parallel N] [--ctx N]
/// [--api-key KEY | --api-keys FILE] [--data DIR | --store URL] [--capture on|off] [--redact KINDS]</c>: the
/// OpenAI-compatible HTTP API. With no --model it serves the demo model bundled with Flywheel. The store (SQLite
/// under ~/.flywheel or --data, or PostgreSQL at --store) holds the tenants' keys, captured traffic, feedback and
/// datasets; when it holds keys, only those are accepted.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string[]>("--model", "-m")
        {
            Description = "A GGUF file, Hugging Face folder, pulled model or hub id (ORG/REPO[:QUANT]) to serve, optionally named NAME=MODEL. Repeatable; the first is the default.",
        };
        var host = new Option<string>("--host") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on.", DefaultValueFactory = _ => 8080 };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences generated at once per model.", DefaultValueFactory = _ => 1 };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "KV cache positions per sequence (default: the model's, at most 4096)." };
        var cacheTokens = new Option<int?>("--cache-tokens")
        {
            Description = "KV-cache positions all sequences of a model share, in blocks of 16 (default: --parallel × --ctx). Below that, sequences are preempted and resumed when it fills.",
        };
        var apiKey = new Option<string>("--api-key") { Description = "Require this API key (Authorization: Bearer KEY)." };
        var apiKeys = new Option<string>("--api-keys") { Description = "Require one of the API keys in this file, one per line." };
        var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads to compute on (default: the physical cores)." };
        var capture = new Option<string>("--capture") { Description = "Record chat and completion traffic in the store: on or off.", DefaultValueFactory = _ => "on" };
        var redact = new Option<string>("--redact")
        {
            Description = "Personal data replaced before traffic is stored (for tenants with redaction on): all, none, or a comma list of email, phone, id.",
            DefaultValueFactory = _ => "all",
        };
        var command = new Command("serve", "Serve models over an OpenAI-compatible HTTP API.");
        foreach (var o in new Option[] { model, host, port, parallel, ctx, cacheTokens, apiKey, apiKeys, threads }) command.Options.Add(o);
        var store = new StoreOptions().AddTo(command);
        command.Options.Add(capture);
        command.Options.Add(redact);
        command.SetAction(async (parse, cancellationToken) =>
        {
            IFlywheelStore? opened = null;
            try
            {
                Threads.Apply(parse.GetValue(threads));
                var captureOn = parse.GetValue(capture) switch
                {
                    "on" => true,
                    "off" => false,
                    var other => throw new CliUsageException($"--capture must be on or off, got '{other}'"),
                };
                var redaction = ParseRedaction(parse.GetValue(redact)!);
                var models = ParseModels(parse.GetValue(model) ?? []);
                // Neither --data nor --store: the default store under ~/.flywheel, the same one `flywheel keys create`
                // writes to, so keys created there are the keys this server accepts.
                opened = await store.OpenAsync(parse, cancellationToken);
                var options = new ServerOptions
                {
                    Models = models,
                    Host = parse.GetValue(host)!,
                    Port = CheckRange(parse.GetValue(port), 0, 65535, "--port"),
                    Parallel = CheckRange(parse.GetValue(parallel), 1, 256, "--parallel"),
                    ContextLength = parse.GetValue(ctx) is { } c ? CheckRange(c, 16, 1 << 20, "--ctx") : null,
                    CacheTokens = parse.GetValue(cacheTokens) is { } kv ? CheckRange(kv, 16, 1 << 26, "--cache-tokens") : null,
                    ApiKeys = ReadKeys(parse.GetValue(apiKey), parse.GetValue(apiKeys)),
                    Store = opened,
                    Capture = captureOn,
                    Redaction = redaction,
                };
                return await FlywheelServer.RunAsync(options, Console.Out, cancellationToken);
            }
            catch (Exception e)
            {
                return CliErrors.Report(e);
            }
            finally
            {
                if (opened is not null) await opened.DisposeAsync();
            }
        });
        return command;
    }

    /// <summary>The model bundled beside the CLI (copied from the repository's models/ folder at build time).</summary>
    public static string DemoModelPath => Path.Combine(AppContext.BaseDirectory, "models", "stories260K", "stories260K.gguf");

    internal static IReadOnlyList<KeyValuePair<string, string>> ParseModels(string[] values)
    {
        if (values.Length == 0) values = [DemoModelPath];
        var result = new List<KeyValuePair<string, string>>();
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            var (name, spec) = eq > 0 && !File.Exists(value) && !Directory.Exists(value)
                ? (value[..eq], value[(eq + 1)..])
                : (null, value);
            // A hub id (ORG/REPO[:QUANT]) is served under that id unless named; a path under its file name.
            var isHubId = !File.Exists(spec) && !Directory.Exists(spec) && Flywheel.Formats.HuggingFace.Hub.HubModelId.TryParse(spec, out _);
            name ??= isHubId ? spec : Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(spec));
            var path = ModelResolver.Resolve(spec);
            if (result.Any(kv => kv.Key == name)) throw new CliUsageException($"two models are named '{name}'; name them with NAME=PATH");
            result.Add(new(name, path));
        }
        return result;
    }

    internal static RedactionOptions ParseRedaction(string value)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "all":
                return RedactionOptions.All;
            case "none":
                return new RedactionOptions(Emails: false, PhoneNumbers: false, IdentityNumbers: false);
        }
        var kinds = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => k.ToLowerInvariant()).ToList();
        if (kinds.Count == 0 || kinds.Any(k => k is not ("email" or "phone" or "id")))
        {
            throw new CliUsageException($"--redact must be all, none, or a comma list of email, phone and id; got '{value}'");
        }
        return new RedactionOptions(Emails: kinds.Contains("email"), PhoneNumbers: kinds.Contains("phone"), IdentityNumbers: kinds.Contains("id"));
    }

    private static HashSet<string> ReadKeys(string? key, string? file)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (key is { Length: > 0 }) keys.Add(key);
        if (file is not null)
        {
            if (!File.Exists(file)) throw new CliUsageException($"API key file not found: {file}");
            foreach (var line in File.ReadAllLines(file))
            {
                var k = line.Trim();
                if (k.Length > 0 && !k.StartsWith('#')) keys.Add(k);
            }
        }
        return keys;
    }

    private static int CheckRange(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new CliUsageException($"{name} must be between {min} and {max}, got {value}");
}
