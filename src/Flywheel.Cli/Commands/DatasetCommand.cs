using System.CommandLine;
using System.Globalization;
using System.Text;
using Flywheel.Store.Datasets;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel dataset create | export | import | list | show | delete</c>: datasets built from one tenant's captured traffic
/// (or imported), kept in the store. Every subcommand takes <c>--tenant</c> (a dataset belongs to one tenant and
/// names are per tenant) and <c>[--data DIR | --store URL]</c>.
/// </summary>
public static class DatasetCommand
{
    public static Command Create()
    {
        var command = new Command("dataset", "Build, export, import and inspect datasets of captured traffic.");
        command.Subcommands.Add(CreateDataset());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(Import());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Delete());
        return command;
    }

    private static Option<string> Tenant() => new("--tenant") { Description = "The tenant whose datasets these are.", Required = true };

    private static Option<double> TestFraction() => new("--test-fraction")
    {
        Description = "Share of examples for the test split, 0 to 1 (chosen by a hash of the record id, so it is stable).",
        DefaultValueFactory = _ => 0,
    };

    private static Command CreateDataset()
    {
        var tenant = Tenant();
        var name = new Option<string>("--name") { Description = "The new dataset's name.", Required = true };
        var where = new Option<string>("--where") { Description = "Filter, e.g. \"rating >= 4 or corrected\" (rating, corrected, kind, model, adapter; and/or/not; parentheses)." };
        var since = new Option<string>("--since") { Description = "Only records created at or after this date (YYYY-MM-DD or ISO 8601; UTC unless it has an offset)." };
        var fraction = TestFraction();
        var command = new Command("create", "Build a dataset from a tenant's captured traffic: filter, apply corrections, drop near-duplicates, split.");
        foreach (var o in new Option[] { tenant, name, where, since, fraction }) command.Options.Add(o);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            var options = new DatasetBuildOptions(parse.GetValue(tenant)!, parse.GetValue(name)!, parse.GetValue(where),
                ParseSince(parse.GetValue(since)), CheckFraction(parse.GetValue(fraction)));
            if (options.Where is { } w) ParseFilter(w);
            await using var s = await store.OpenAsync(parse);
            var result = await DatasetBuilder.CreateAsync(s, options);
            var d = result.Dataset;
            Console.Out.WriteLine($"dataset {d.Name} (tenant {d.Tenant}): {d.ExampleCount} examples, {d.TrainCount} train, {d.TestCount} test");
            Console.Out.WriteLine($"{result.Considered} records considered, {result.Matched} matched, {result.DuplicatesRemoved} near-duplicates removed, {result.Unusable} without a usable answer");
            return 0;
        }));
        return command;
    }

    private static Command Export()
    {
        var tenant = Tenant();
        var dataset = new Argument<string>("NAME") { Description = "The dataset to export." };
        var format = new Option<string>("--format") { Description = "Output format; openai-jsonl: one {\"messages\": [...]} per line.", DefaultValueFactory = _ => OpenAiJsonl.FormatName };
        var split = new Option<string>("--split") { Description = "train, test or all.", DefaultValueFactory = _ => "all" };
        var output = new Option<string>("--output", "-o") { Description = "File to write (written whole, then renamed into place); default standard output." };
        var command = new Command("export", "Write a dataset in the OpenAI chat fine-tuning format.");
        command.Arguments.Add(dataset);
        foreach (var o in new Option[] { tenant, format, split, output }) command.Options.Add(o);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            if (parse.GetValue(format) != OpenAiJsonl.FormatName)
            {
                throw new CliUsageException($"--format '{parse.GetValue(format)}' is not supported (supported: {OpenAiJsonl.FormatName})");
            }
            var which = parse.GetValue(split) switch
            {
                "train" => DatasetSplit.Train,
                "test" => DatasetSplit.Test,
                "all" => DatasetSplit.All,
                var other => throw new CliUsageException($"--split '{other}' must be train, test or all"),
            };
            string t = parse.GetValue(tenant)!, n = parse.GetValue(dataset)!;
            await using var s = await store.OpenAsync(parse);
            var examples = await s.GetDatasetExamplesAsync(t, n, which)
                ?? throw new CliUsageException($"tenant '{t}' has no dataset named '{n}'");
            int count;
            if (parse.GetValue(output) is { } path)
            {
                string full = Path.GetFullPath(path);
                string temp = full + ".partial";
                await using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false)))
                {
                    count = await OpenAiJsonl.WriteAsync(examples, writer);
                }
                File.Move(temp, full, overwrite: true);
                Console.Error.WriteLine($"wrote {count} examples ({parse.GetValue(split)}) to {full}");
            }
            else
            {
                var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
                count = await OpenAiJsonl.WriteAsync(examples, stdout);
            }
            return 0;
        }));
        return command;
    }

    private static Command Import()
    {
        var tenant = Tenant();
        var file = new Argument<string>("FILE") { Description = "An openai-jsonl file: one {\"messages\": [...]} per line." };
        var name = new Option<string>("--name") { Description = "The new dataset's name.", Required = true };
        var fraction = TestFraction();
        var command = new Command("import", "Create a dataset from an openai-jsonl file (every line is checked first).");
        command.Arguments.Add(file);
        foreach (var o in new Option[] { tenant, name, fraction }) command.Options.Add(o);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliUsageException($"file not found: {path}");
            List<DatasetExample> examples;
            try
            {
                examples = OpenAiJsonl.Read(path, CheckFraction(parse.GetValue(fraction)));
            }
            catch (DatasetFormatException e)
            {
                throw new CliUsageException(e.Message);
            }
            await using var s = await store.OpenAsync(parse);
            var d = await s.CreateDatasetAsync(new NewDataset(parse.GetValue(tenant)!, parse.GetValue(name)!, "import " + Path.GetFileName(path), examples));
            Console.Out.WriteLine($"dataset {d.Name} (tenant {d.Tenant}): {d.ExampleCount} examples imported, {d.TrainCount} train, {d.TestCount} test");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var tenant = Tenant();
        var command = new Command("list", "List a tenant's datasets.");
        command.Options.Add(tenant);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            await using var s = await store.OpenAsync(parse);
            var datasets = await s.ListDatasetsAsync(parse.GetValue(tenant)!);
            Console.Out.WriteLine($"{"NAME",-24}  {"EXAMPLES",8}  {"TRAIN",6}  {"TEST",6}  {"CREATED (UTC)",-19}  SOURCE");
            foreach (var d in datasets)
            {
                Console.Out.WriteLine($"{d.Name,-24}  {d.ExampleCount,8}  {d.TrainCount,6}  {d.TestCount,6}  {KeysCommand.Time(d.CreatedAt),-19}  {d.Source}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var tenant = Tenant();
        var dataset = new Argument<string>("NAME") { Description = "The dataset to describe." };
        var count = new Option<int>("--examples") { Description = "How many examples to print.", DefaultValueFactory = _ => 3 };
        var command = new Command("show", "Describe a dataset and print its first examples.");
        command.Arguments.Add(dataset);
        command.Options.Add(tenant);
        command.Options.Add(count);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            string t = parse.GetValue(tenant)!, n = parse.GetValue(dataset)!;
            await using var s = await store.OpenAsync(parse);
            var d = await s.GetDatasetAsync(t, n) ?? throw new CliUsageException($"tenant '{t}' has no dataset named '{n}'");
            Console.Out.WriteLine($"name:     {d.Name}");
            Console.Out.WriteLine($"tenant:   {d.Tenant}");
            Console.Out.WriteLine($"created:  {KeysCommand.Time(d.CreatedAt)} UTC");
            Console.Out.WriteLine($"source:   {d.Source}");
            Console.Out.WriteLine($"examples: {d.ExampleCount} ({d.TrainCount} train, {d.TestCount} test)");
            var examples = await s.GetDatasetExamplesAsync(t, n, DatasetSplit.All) ?? [];
            foreach (var e in examples.Take(Math.Max(0, parse.GetValue(count))))
            {
                Console.Out.WriteLine($"[{(e.Split == DatasetSplit.Test ? "test" : "train")}{(e.RecordId is { } id ? " " + id : "")}] {e.MessagesJson}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var tenant = Tenant();
        var dataset = new Argument<string>("NAME") { Description = "The dataset to delete." };
        var command = new Command("delete", "Delete one of a tenant's datasets (its examples; the captured traffic stays).");
        command.Arguments.Add(dataset);
        command.Options.Add(tenant);
        var store = new StoreOptions().AddTo(command);
        command.SetAction(parse => StoreOptions.Run(async () =>
        {
            string t = parse.GetValue(tenant)!, n = parse.GetValue(dataset)!;
            await using var s = await store.OpenAsync(parse);
            // Another tenant's dataset of that name answers exactly like a missing one.
            if (!await s.DeleteDatasetAsync(t, n)) throw new CliUsageException($"tenant '{t}' has no dataset named '{n}'");
            Console.Out.WriteLine($"deleted dataset {n} (tenant {t})");
            return 0;
        }));
        return command;
    }

    internal static DateTimeOffset? ParseSince(string? text)
    {
        if (text is null) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
        {
            return when;
        }
        throw new CliUsageException($"--since '{text}' is not a date (use YYYY-MM-DD or ISO 8601, e.g. 2026-01-31T12:00:00Z)");
    }

    private static double CheckFraction(double fraction) =>
        double.IsNaN(fraction) || fraction is < 0 or > 1
            ? throw new CliUsageException($"--test-fraction {fraction.ToString(CultureInfo.InvariantCulture)} must be between 0 and 1")
            : fraction;

    private static void ParseFilter(string where)
    {
        try
        {
            TrafficFilter.Parse(where);
        }
        catch (FilterSyntaxException e)
        {
            throw new CliUsageException($"--where: bad filter at position {e.Position}: {e.Problem} (in \"{e.Expression}\")");
        }
    }
}
