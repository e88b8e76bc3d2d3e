using Flywheel.Formats;

namespace Flywheel.Cli;

/// <summary>
/// Turns failures into one clear line on stderr and an exit code, never a stack trace:
/// 2 for bad input (a malformed model file, a bad argument), 1 for anything else.
/// Set FLYWHEEL_DEBUG=1 to see the full exception.
/// </summary>
internal static class CliErrors
{
    public const int BadInput = 2;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    public static int Report(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : e;
        if (Environment.GetEnvironmentVariable("FLYWHEEL_DEBUG") == "1")
        {
            Console.Error.WriteLine(inner);
        }
        switch (inner)
        {
            case ModelFormatException or CliUsageException:
                Console.Error.WriteLine($"flywheel: error: {inner.Message}");
                return BadInput;
            case IOException or UnauthorizedAccessException:
                Console.Error.WriteLine($"flywheel: error: {inner.Message}");
                return BadInput;
            default:
                Console.Error.WriteLine($"flywheel: internal error: {inner.GetType().Name}: {inner.Message}");
                return 1;
        }
    }
}
