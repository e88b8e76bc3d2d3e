namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>
/// The hub refused or could not serve a request (unknown repository, missing file, checksum mismatch, network
/// failure). The message is one line that names the repository or file; the CLI prints it and exits with code 2.
/// </summary>
public sealed class HubException(string message, Exception? inner = null) : Exception(message, inner);
