using System.Text.RegularExpressions;

namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>
/// A model named the hub's way, <c>ORG/REPO</c>, optionally with <c>:FILE_OR_QUANT</c> (a .gguf file name or a
/// quantization tag such as <c>Q4_K_M</c>).
/// </summary>
public sealed partial record HubModelId(string Organization, string Name, string? Selector)
{
    public string Repo => $"{Organization}/{Name}";

    public override string ToString() => Selector is null ? Repo : $"{Repo}:{Selector}";

    /// <summary>Parses <c>ORG/REPO[:SELECTOR]</c>; false for anything else (a path, a bare name).</summary>
    public static bool TryParse(string text, out HubModelId id)
    {
        id = null!;
        var m = Pattern().Match(text);
        if (!m.Success) return false;
        var selector = m.Groups["sel"].Success ? m.Groups["sel"].Value : null;
        id = new HubModelId(m.Groups["org"].Value, m.Groups["name"].Value, selector);
        return true;
    }

    // Hub names: letters, digits, '-', '_', '.'; neither part may be '.' or '..' (they would escape the models folder).
    [GeneratedRegex(@"^(?<org>(?!\.\.?/)[A-Za-z0-9][A-Za-z0-9._-]*)/(?<name>(?!\.\.?(:|$))[A-Za-z0-9._-]+)(:(?<sel>[A-Za-z0-9._-]+))?$")]
    private static partial Regex Pattern();
}
