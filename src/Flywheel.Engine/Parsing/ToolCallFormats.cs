namespace Flywheel.Engine.Parsing;

/// <summary>Chooses the tool-call format from the model's chat template, and builds its parser.</summary>
public static class ToolCallFormats
{
    /// <summary>
    /// Reads the format off the template text: a template that writes <c>&lt;tool_call&gt;</c> is Hermes-style (Qwen2.5,
    /// Qwen3, SmolLM3, Hermes); one that asks for <c>"parameters"</c> or knows <c>&lt;|python_tag|&gt;</c> is Llama 3's.
    /// Anything else (no template, or one without tools) gets Hermes, the most common convention among open models.
    /// </summary>
    public static ToolCallFormat Detect(string templateSource)
    {
        if (templateSource.Contains("<tool_call>", StringComparison.Ordinal)) return ToolCallFormat.Hermes;
        if (templateSource.Contains("<|python_tag|>", StringComparison.Ordinal)
            || (templateSource.Contains("\"parameters\"", StringComparison.Ordinal) && templateSource.Contains("<|start_header_id|>", StringComparison.Ordinal)))
        {
            return ToolCallFormat.Llama3;
        }
        return ToolCallFormat.Hermes;
    }

    public static IToolCallParser CreateParser(ToolCallFormat format) => format switch
    {
        ToolCallFormat.Hermes => new HermesToolCallParser(),
        ToolCallFormat.Llama3 => new Llama3ToolCallParser(),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };
}
