namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>
/// One file of a hub repository as the tree listing reports it. <see cref="Sha256"/> is the LFS object id (the
/// content's sha256) for files kept in LFS; <see cref="GitBlobId"/> is git's blob sha1, which identifies the content
/// of any file, LFS or not (for an LFS file it is the pointer's, so only <see cref="Sha256"/> checks those).
/// </summary>
public sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobId)
{
    public bool IsLfs => Sha256 is not null;
}
