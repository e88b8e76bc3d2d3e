namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>Progress of one file download: bytes on disk so far (resumed bytes included) out of the total.</summary>
public readonly record struct HubProgress(string Path, long Downloaded, long Total, bool Resumed);
