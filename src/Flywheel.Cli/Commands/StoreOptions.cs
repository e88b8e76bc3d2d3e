using System.CommandLine;
using Flywheel.Store;

namespace Flywheel.Cli.Commands;

/// <summary>
/// The <c>--data DIR | --store URL</c> pair every store-using command takes (keys, dataset, serve), defined once so
/// they read and fail the same way everywhere. Neither given: SQLite under ~/.flywheel (or $FLYWHEEL_HOME).
/// </summary>
public sealed class StoreOptions
{
    public Option<string> Data { get; } = new("--data")
    {
        Description = "Folder of the embedded SQLite store (flywheel.db); default ~/.flywheel or $FLYWHEEL_HOME.",
    };

    public Option<string> Store { get; } = new("--store")
    {
        Description = "PostgreSQL store instead: postgres://user:password@host:port/database[?schema=NAME].",
    };

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public StoreOptions AddTo(Command command)
    {
        command.Options.Add(Data);
        command.Options.Add(Store);
        return this;
    }

    /// <summary>True when either option was given (serve uses this to decide whether to open a store at all).</summary>
    public bool IsGiven(ParseResult parse) => parse.GetValue(Data) is not null || parse.GetValue(Store) is not null;

    /// <summary>Opens the store the options name; a store that cannot be opened is a one-line usage error (exit 2).</summary>
    public async Task<IFlywheelStore> OpenAsync(ParseResult parse, CancellationToken cancellationToken = default)
    {
        string? data = parse.GetValue(Data);
        string? url = parse.GetValue(Store);
        if (data is not null && url is not null)
        {
            throw new CliUsageException("give either --data DIR or --store URL, not both");
        }
        try
        {
            return await FlywheelStore.OpenAsync(data, url, cancellationToken);
        }
        catch (StoreException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    /// <summary>Runs a store command: store and argument errors become one-line usage errors (exit 2).</summary>
    internal static int Run(Func<Task<int>> action) => CliErrors.Run(() =>
    {
        try
        {
            return action().GetAwaiter().GetResult();
        }
        catch (StoreException e)
        {
            throw new CliUsageException(e.Message);
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
        }
    });
}
