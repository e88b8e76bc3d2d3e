namespace Flywheel.Server.Tests.Node;

/// <summary>A fact that runs only where Node.js and npm are on the PATH; elsewhere it is skipped, saying so.</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        var missing = new[] { "node", "npm" }.Where(tool => NodeTools.Find(tool) is null).ToList();
        if (missing.Count > 0)
        {
            Skip = $"{string.Join(" and ", missing)} not found on the PATH; this test drives the server with the openai npm client";
        }
    }
}
