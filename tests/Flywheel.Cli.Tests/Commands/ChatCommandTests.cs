using Flywheel.Testing;

namespace Flywheel.Cli.Tests.Commands;

/// <summary><c>flywheel chat</c> driven through piped stdin.</summary>
public class ChatCommandTests
{
    private static string Stories => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    [Fact]
    public void Piped_turns_keep_history_reset_forgets_it_and_exit_stops()
    {
        var r = CliRunner.RunWith("Once upon a time\nThe dog\n/reset\nThe dog\n/exit\nnever read\n", null,
            "chat", "-m", Stories, "--temperature", "0", "-n", "12");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length); // three replies and the reset notice
        Assert.Equal("(history cleared)", lines[2]);
        // The second turn sees the first in its history, the fourth starts afresh: same words, different replies.
        Assert.NotEqual(lines[1], lines[3]);
        // A fresh conversation is what run gives for the same single message.
        var run = CliRunner.Run("run", "-m", Stories, "-p", "The dog", "--temperature", "0", "-n", "12");
        Assert.Equal(run.Stdout.TrimEnd('\n'), lines[3]);
        var first = CliRunner.Run("run", "-m", Stories, "-p", "Once upon a time", "--temperature", "0", "-n", "12");
        Assert.Equal(first.Stdout.TrimEnd('\n'), lines[0]);
    }

    [Fact]
    public void End_of_input_exits_cleanly()
    {
        var r = CliRunner.RunWith("", null, "chat", "-m", Stories);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
    }
}
