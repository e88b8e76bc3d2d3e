namespace Flywheel.Engine.Parsing;

/// <summary>How a model writes tool calls in its output.</summary>
public enum ToolCallFormat
{
    /// <summary>Qwen/Hermes: <c>&lt;tool_call&gt;{"name": ..., "arguments": {...}}&lt;/tool_call&gt;</c>, possibly several.</summary>
    Hermes,
    /// <summary>Llama 3.x: the whole message is <c>{"name": ..., "parameters": {...}}</c>, optionally after <c>&lt;|python_tag|&gt;</c>.</summary>
    Llama3,
}
