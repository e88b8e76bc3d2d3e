namespace Flywheel.Cli;

/// <summary>A command was given arguments it cannot act on; reported as one line with exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
