namespace Flywheel.Store;

/// <summary>The store cannot do what was asked for a reason a user can fix: a bad URL, an unreachable server, a
/// corrupt file, a duplicate name. The message is one line that names the store.</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message) : base(message) { }

    public StoreException(string message, Exception inner) : base(message, inner) { }
}
