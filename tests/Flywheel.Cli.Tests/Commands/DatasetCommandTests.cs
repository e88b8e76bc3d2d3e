using System.Text.Json;
using Flywheel.Store;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;
using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel dataset</c> over traffic written straight into a store, as the server's capture would.</summary>
public class DatasetCommandTests
{
    public static TheoryData<string> Stores() => KeysCommandTests.Stores();

    private static async Task<List<TrafficRecord>> SeedAsync(string[] store)
    {
        await using var s = await FlywheelStore.OpenAsync(store[0] == "--data" ? store[1] : null, store[0] == "--store" ? store[1] : null);
        var records = new List<TrafficRecord>();
        string[] questions = ["Capital of France?", "Capital of Italy?", "Capital of Spain?", "capital  of FRANCE?", "法国的首都是哪里？"];
        string[] answers = ["Paris.", "Lyon.", "No idea.", "paris.", "巴黎。"];
        for (int i = 0; i < questions.Length; i++)
        {
            records.Add(new TrafficRecord
            {
                Id = TrafficIds.New(TrafficKind.Chat), Tenant = "acme", Kind = TrafficKind.Chat, Model = "qwen",
                RequestJson = JsonSerializer.Serialize(new[] { new { role = "user", content = questions[i] } }),
                OutputText = answers[i], PromptTokens = 5, CompletionTokens = 2, LatencyMs = 10, FinishReason = "stop",
                CreatedAt = DateTimeOffset.UtcNow.AddMinutes(i - 10),
            });
        }
        // Another tenant's traffic, which must never show up in acme's datasets.
        records.Add(records[0] with { Id = TrafficIds.New(TrafficKind.Chat), Tenant = "globex", OutputText = "GLOBEX SECRET" });
        await s.WriteTrafficAsync(records);
        await s.AddFeedbackAsync("acme", new FeedbackInput(records[0].Id, FeedbackRatings.Up));
        await s.AddFeedbackAsync("acme", new FeedbackInput(records[1].Id, FeedbackRatings.Down, Correction.FromText("Rome.")));
        await s.AddFeedbackAsync("acme", new FeedbackInput(records[2].Id, FeedbackRatings.Down));
        await s.AddFeedbackAsync("acme", new FeedbackInput(records[3].Id, 4));
        await s.AddFeedbackAsync("acme", new FeedbackInput(records[4].Id, 5));
        await s.AddFeedbackAsync("globex", new FeedbackInput(records[5].Id, 5));
        return records;
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Create_export_import_list_and_show(string option)
    {
        var store = KeysCommandTests.StoreArgs(option);
        await SeedAsync(store);

        var create = CliRunner.Run(["dataset", "create", "--tenant", "acme", "--name", "gold", "--where", "rating >= 4 or corrected", "--test-fraction", "0", .. store]);
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.Contains("dataset gold (tenant acme): 3 examples, 3 train, 0 test", create.Stdout, StringComparison.Ordinal);
        Assert.Contains("5 records considered, 4 matched, 1 near-duplicates removed", create.Stdout, StringComparison.Ordinal);

        var dir = TestPaths.TempDir();
        var file = Path.Combine(dir, "gold.jsonl");
        var export = CliRunner.Run(["dataset", "export", "gold", "--tenant", "acme", "--format", "openai-jsonl", "--split", "train", "--output", file, .. store]);
        Assert.True(export.ExitCode == 0, export.Stderr);
        var lines = File.ReadAllLines(file);
        Assert.Equal(
        [
            """{"messages":[{"role":"user","content":"Capital of France?"},{"role":"assistant","content":"Paris."}]}""",
            """{"messages":[{"role":"user","content":"Capital of Italy?"},{"role":"assistant","content":"Rome."}]}""",
            """{"messages":[{"role":"user","content":"法国的首都是哪里？"},{"role":"assistant","content":"巴黎。"}]}""",
        ], lines);
        var toStdout = CliRunner.Run(["dataset", "export", "gold", "--tenant", "acme", .. store]);
        Assert.Equal(string.Join("\n", lines) + "\n", toStdout.Stdout);
        Assert.Equal("", CliRunner.Run(["dataset", "export", "gold", "--tenant", "acme", "--split", "test", .. store]).Stdout);

        var import = CliRunner.Run(["dataset", "import", file, "--tenant", "acme", "--name", "copy", .. store]);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Equal(toStdout.Stdout, CliRunner.Run(["dataset", "export", "copy", "--tenant", "acme", .. store]).Stdout);

        var list = CliRunner.Run(["dataset", "list", "--tenant", "acme", .. store]);
        Assert.Contains("gold", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("copy", list.Stdout, StringComparison.Ordinal);
        var show = CliRunner.Run(["dataset", "show", "gold", "--tenant", "acme", .. store]);
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Contains("examples: 3 (3 train, 0 test)", show.Stdout, StringComparison.Ordinal);
        Assert.Contains("where rating >= 4 or corrected", show.Stdout, StringComparison.Ordinal);

        // globex sees none of it, cannot delete it, and its own dataset holds none of acme's traffic.
        Assert.Equal(2, CliRunner.Run(["dataset", "show", "gold", "--tenant", "globex", .. store]).ExitCode);
        var foreignDelete = CliRunner.Run(["dataset", "delete", "gold", "--tenant", "globex", .. store]);
        Assert.Equal(2, foreignDelete.ExitCode);
        Assert.Contains("tenant 'globex' has no dataset named 'gold'", foreignDelete.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(["dataset", "show", "gold", "--tenant", "acme", .. store]).ExitCode);
        Assert.Equal(2, CliRunner.Run(["dataset", "export", "gold", "--tenant", "globex", .. store]).ExitCode);
        Assert.DoesNotContain("gold", CliRunner.Run(["dataset", "list", "--tenant", "globex", .. store]).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(["dataset", "create", "--tenant", "globex", "--name", "gold", .. store]).ExitCode);
        var globex = CliRunner.Run(["dataset", "export", "gold", "--tenant", "globex", .. store]).Stdout;
        Assert.Single(globex.TrimEnd('\n').Split('\n'));
        Assert.Contains("GLOBEX SECRET", globex, StringComparison.Ordinal);
        Assert.DoesNotContain("GLOBEX SECRET", CliRunner.Run(["dataset", "export", "gold", "--tenant", "acme", .. store]).Stdout, StringComparison.Ordinal);

        // acme deletes its gold: gone for acme, globex's gold of the same name untouched; a second delete is an error.
        var delete = CliRunner.Run(["dataset", "delete", "gold", "--tenant", "acme", .. store]);
        Assert.True(delete.ExitCode == 0, delete.Stderr);
        Assert.Equal("deleted dataset gold (tenant acme)\n", delete.Stdout);
        Assert.Equal(2, CliRunner.Run(["dataset", "export", "gold", "--tenant", "acme", .. store]).ExitCode);
        var after = CliRunner.Run(["dataset", "list", "--tenant", "acme", .. store]).Stdout;
        Assert.DoesNotContain(after.Split('\n'), line => line.StartsWith("gold ", StringComparison.Ordinal));
        Assert.Contains(after.Split('\n'), line => line.StartsWith("copy ", StringComparison.Ordinal));
        Assert.Equal(globex, CliRunner.Run(["dataset", "export", "gold", "--tenant", "globex", .. store]).Stdout);
        Assert.Equal(2, CliRunner.Run(["dataset", "delete", "gold", "--tenant", "acme", .. store]).ExitCode);
    }

    [Fact]
    public void Bad_input_is_one_line_with_exit_code_2()
    {
        var data = TestPaths.TempDir();
        var bad = Path.Combine(data, "bad.jsonl");
        File.WriteAllText(bad, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}\n{\"messages\": oops}\n");
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["dataset", "create", "--tenant", "acme", "--name", "x", "--where", "rating >= 4 or", "--data", data], "--where: bad filter at position 15"),
            (["dataset", "create", "--tenant", "acme", "--name", "x", "--where", "score > 3", "--data", data], "unknown condition 'score'"),
            (["dataset", "create", "--tenant", "acme", "--name", "x", "--since", "last tuesday", "--data", data], "--since 'last tuesday' is not a date"),
            (["dataset", "create", "--tenant", "acme", "--name", "x", "--test-fraction", "1.5", "--data", data], "--test-fraction 1.5 must be between 0 and 1"),
            (["dataset", "create", "--tenant", "acme", "--name", "bad/name", "--data", data], "dataset name 'bad/name'"),
            (["dataset", "export", "nope", "--tenant", "acme", "--data", data], "tenant 'acme' has no dataset named 'nope'"),
            (["dataset", "export", "nope", "--tenant", "acme", "--format", "csv", "--data", data], "--format 'csv' is not supported"),
            (["dataset", "export", "nope", "--tenant", "acme", "--split", "dev", "--data", data], "--split 'dev' must be train, test or all"),
            (["dataset", "import", bad, "--tenant", "acme", "--name", "x", "--data", data], "bad.jsonl line 2: not valid JSON"),
            (["dataset", "import", Path.Combine(data, "missing.jsonl"), "--tenant", "acme", "--name", "x", "--data", data], "file not found"),
        })
        {
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 2, $"{string.Join(' ', args)}: exit {r.ExitCode}, {r.Stderr}");
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        }
        Assert.Equal(0, CliRunner.Run("dataset", "create", "--tenant", "acme", "--name", "x", "--data", data).ExitCode);
        var dup = CliRunner.Run("dataset", "create", "--tenant", "acme", "--name", "x", "--data", data);
        Assert.Equal(2, dup.ExitCode);
        Assert.Contains("already has a dataset named 'x'", dup.Stderr, StringComparison.Ordinal);
    }
}
