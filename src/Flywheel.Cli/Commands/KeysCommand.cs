using System.CommandLine;
using System.Globalization;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel keys create --tenant NAME | list [--tenant NAME] | revoke KEY_ID</c>, each with
/// <c>[--data DIR | --store URL]</c>: API keys of the store. A created key is printed once, alone on the last line;
/// the store keeps only its SHA-256. When a store holds keys, <c>flywheel serve</c> on it accepts only those.
/// </summary>
public static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Create, list and revoke tenants' API keys.");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Revoke());
        return command;
    }

    private static Command CreateKey()
    {
        var tenant = new Option<string>("--tenant") { Description = "The tenant the key belongs to (created when new).", Required = true };
        var command = new Command("create", "Create an API key; it is printed once, alone on the last line.");
        command.Options.Add(tenant);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            await using var s = await store.OpenAsync(parse);
            var key = await s.CreateApiKeyAsync(parse.GetValue(tenant)!);
            Console.Out.WriteLine($"created key {key.KeyId} for tenant {key.Tenant} in {s.Description}");
            Console.Out.WriteLine("it is shown only now; the store keeps only its hash:");
            Console.Out.WriteLine(key.Key);
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var tenant = new Option<string>("--tenant") { Description = "Only this tenant's keys." };
        var command = new Command("list", "List API keys (ids, tenants, state; never the secrets).");
        command.Options.Add(tenant);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            await using var s = await store.OpenAsync(parse);
            var keys = await s.ListApiKeysAsync(parse.GetValue(tenant));
            Console.Out.WriteLine($"{"KEY ID",-16}  {"TENANT",-20}  {"CREATED (UTC)",-19}  STATE");
            foreach (var k in keys)
            {
                string state = k.RevokedAt is { } r ? "revoked " + Time(r) : "active";
                Console.Out.WriteLine($"{k.KeyId,-16}  {k.Tenant,-20}  {Time(k.CreatedAt),-19}  {state}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Revoke()
    {
        var keyId = new Argument<string>("KEY_ID") { Description = "The key's id (fw_...), as keys list shows it." };
        var command = new Command("revoke", "Revoke an API key; requests using it are refused from then on.");
        command.Arguments.Add(keyId);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            await using var s = await store.OpenAsync(parse);
            string id = parse.GetValue(keyId)!;
            if (!await s.RevokeApiKeyAsync(id))
            {
                throw new CliUsageException($"no active key with id '{id}' in {s.Description}");
            }
            Console.Out.WriteLine($"revoked {id}");
            return 0;
        }));
        return command;
    }

    internal static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
