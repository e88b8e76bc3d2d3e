using System.Text.Json.Nodes;
using Flywheel.Engine.Parsing;
using Flywheel.Testing;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Engine.Tests.Parsing;

/// <summary>
/// The output parsers on text the real templates write for assistant turns (the same text a model trained on them
/// produces), fed whole and split at every position: streamed pieces must add up to the whole answer.
/// </summary>
public class ChatOutputParserTests
{
    private static string Template(string name) => File.ReadAllText(TestPaths.SharedFile("testdata", "templates", name));

    private const string Qwen25 = "Qwen-Qwen2.5-7B-Instruct.jinja";
    private const string Qwen3 = "Qwen-Qwen3-0.6B.jinja";
    private const string Llama32 = "meta-llama-Llama-3.2-3B-Instruct.jinja";
    private const string DeepSeekR1 = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja";

    private static readonly JsonArray Tools = (JsonArray)JsonNode.Parse("""
        [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}]
        """)!;

    /// <summary>Renders a conversation whose last assistant turn holds <paramref name="calls"/>, and cuts that turn's text out.</summary>
    private static string AssistantTurn(string template, string calls, string start, string end)
    {
        var messages = JsonNode.Parse($$"""
            [{"role": "user", "content": "Weather in Paris and Oslo?"},
             {"role": "assistant", "content": "", "tool_calls": {{calls}}},
             {"role": "tool", "content": "sunny"}]
            """)!;
        var context = ChatTemplateContext.FromJson(messages, Tools.DeepClone());
        context.BosToken = "<s>";
        context.EosToken = "</s>";
        var rendered = ChatTemplate.Parse(Template(template)).Render(context);
        var at = rendered.IndexOf(start, StringComparison.Ordinal);
        Assert.True(at >= 0, $"no '{start}' in the render:\n{rendered}");
        var from = at + start.Length;
        return rendered[from..rendered.IndexOf(end, from, StringComparison.Ordinal)];
    }

    private const string TwoCalls = """
        [{"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}},
         {"id": "b", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]
        """;

    private const string OneCall = """
        [{"id": "a", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]
        """;

    [Theory]
    [InlineData(Qwen25)]
    [InlineData(Qwen3)]
    public void Hermes_calls_from_the_qwen_templates_parse_into_tool_calls(string template)
    {
        var text = AssistantTurn(template, TwoCalls, "<|im_start|>assistant\n", "<|im_end|>");
        Assert.Contains("<tool_call>", text);
        Assert.Equal(ToolCallFormat.Hermes, ToolCallFormats.Detect(Template(template)));
        foreach (var pieces in Splits(text))
        {
            var (reasoning, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Hermes), pieces);
            Assert.Equal("", reasoning);
            Assert.Equal("", content);
            Assert.Equal([("get_weather", """{"city":"Paris","days":2}"""), ("get_weather", """{"city":"Oslo"}""")], calls.Select(c => (c.Name, c.Arguments)));
            Assert.Equal([0, 1], calls.Select(c => c.Index));
            Assert.All(calls, c => Assert.StartsWith("call_", c.Id));
        }
    }

    [Fact]
    public void Llama3_json_call_from_the_llama_template_parses_into_a_tool_call()
    {
        var text = AssistantTurn(Llama32, OneCall, "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>");
        Assert.StartsWith("{\"name\": \"get_weather\"", text);
        Assert.Equal(ToolCallFormat.Llama3, ToolCallFormats.Detect(Template(Llama32)));
        foreach (var pieces in Splits(text).Append([Llama3ToolCallParser.PythonTag, text]))
        {
            var (_, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Llama3), pieces);
            Assert.Equal("", content);
            var call = Assert.Single(calls);
            Assert.Equal(("get_weather", """{"city":"Paris","days":2}"""), (call.Name, call.Arguments));
        }
    }

    [Fact]
    public void Llama3_several_calls_split_by_semicolons()
    {
        var (_, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Llama3),
            ["""{"name": "a", "parameters": {"x": ";"}}; {"name": "b", "parameters": {}}"""]);
        Assert.Equal("", content);
        Assert.Equal([("a", """{"x":";"}"""), ("b", "{}")], calls.Select(c => (c.Name, c.Arguments)));
    }

    [Theory]
    [InlineData(ToolCallFormat.Hermes, "The weather is <b>fine</b> and a <tool in the shed.\n\nBye. ")]
    [InlineData(ToolCallFormat.Llama3, "{not json} said the parser")]
    [InlineData(ToolCallFormat.Llama3, "Plain answer with {braces}.")]
    [InlineData(ToolCallFormat.Hermes, "<tool_call>\n{\"no_name\": 1}\n</tool_call>")]
    public void Text_that_is_not_a_call_stays_content_unchanged(ToolCallFormat format, string text)
    {
        foreach (var pieces in Splits(text))
        {
            var (_, content, calls) = Run(new ChatOutputParser(false, format), pieces);
            Assert.Empty(calls);
            Assert.Equal(text, content);
        }
    }

    [Fact]
    public void Text_before_a_hermes_call_is_content_and_the_call_is_parsed()
    {
        var text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Rome\\\"}\"}\n</tool_call>";
        foreach (var pieces in Splits(text))
        {
            var (_, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Hermes), pieces);
            Assert.Equal("Let me check.", content);
            Assert.Equal(("get_weather", """{"city":"Rome"}"""), (Assert.Single(calls).Name, calls[0].Arguments));
        }
    }

    [Fact]
    public void A_call_cut_off_before_its_close_tag_still_parses_when_its_json_is_complete()
    {
        var (_, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Hermes), ["<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n"]);
        Assert.Equal("", content);
        Assert.Equal("f", Assert.Single(calls).Name);
    }

    [Fact]
    public void Without_tools_a_tool_call_is_plain_content()
    {
        const string text = "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>";
        var (_, content, calls) = Run(new ChatOutputParser(false, null), [text]);
        Assert.Empty(calls);
        Assert.Equal(text, content);
    }

    [Fact]
    public void DeepSeek_R1_prompt_opens_the_think_block_and_the_answer_starts_inside_it()
    {
        var context = ChatTemplateContext.FromJson(JsonNode.Parse("""[{"role": "user", "content": "2+2?"}]""")!);
        context.AddGenerationPrompt = true;
        context.BosToken = "<｜begin▁of▁sentence｜>";
        context.Variables["enable_thinking"] = true;
        var prompt = ChatTemplate.Parse(Template(DeepSeekR1)).Render(context);
        Assert.True(ReasoningParser.PromptOpensThinking(prompt), prompt);

        const string output = "Okay, the user asks 2+2.\nThat is 4.\n</think>\n\nThe answer is **4**.";
        foreach (var pieces in Splits(output))
        {
            var (reasoning, content, _) = Run(new ChatOutputParser(true, null), pieces);
            Assert.Equal("Okay, the user asks 2+2.\nThat is 4.", reasoning);
            Assert.Equal("The answer is **4**.", content);
        }
    }

    [Fact]
    public void Qwen3_non_thinking_prompt_closes_the_block_and_a_thinking_answer_opens_its_own()
    {
        var context = ChatTemplateContext.FromJson(JsonNode.Parse("""[{"role": "user", "content": "hi"}]""")!);
        context.AddGenerationPrompt = true;
        context.Variables["enable_thinking"] = false;
        Assert.False(ReasoningParser.PromptOpensThinking(ChatTemplate.Parse(Template(Qwen3)).Render(context)));
        context.Variables["enable_thinking"] = true;
        Assert.False(ReasoningParser.PromptOpensThinking(ChatTemplate.Parse(Template(Qwen3)).Render(context)));

        const string output = "<think>\nThe user greets me.\n</think>\n\nHello! <think> stays in content.";
        foreach (var pieces in Splits(output))
        {
            var (reasoning, content, _) = Run(new ChatOutputParser(false, ToolCallFormat.Hermes), pieces);
            Assert.Equal("The user greets me.", reasoning);
            Assert.Equal("Hello! <think> stays in content.", content);
        }
    }

    [Fact]
    public void Reasoning_then_a_tool_call()
    {
        const string output = "<think>I should call the tool.</think>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
        foreach (var pieces in Splits(output))
        {
            var (reasoning, content, calls) = Run(new ChatOutputParser(false, ToolCallFormat.Hermes), pieces);
            Assert.Equal("I should call the tool.", reasoning);
            Assert.Equal("", content);
            Assert.Equal("get_weather", Assert.Single(calls).Name);
        }
    }

    [Fact]
    public void An_unclosed_think_block_is_all_reasoning()
    {
        foreach (var pieces in Splits("<think>still thinking when the tokens ran out </"))
        {
            var (reasoning, content, _) = Run(new ChatOutputParser(false, null), pieces);
            Assert.Equal("still thinking when the tokens ran out </", reasoning);
            Assert.Equal("", content);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(" <thin")]
    [InlineData("Once upon a time")]
    public void Plain_text_passes_through(string text)
    {
        var (reasoning, content, _) = Run(new ChatOutputParser(false, null), [text]);
        Assert.Equal("", reasoning);
        Assert.Equal(text, content);
    }

    /// <summary>The text whole, in single characters, and split in two at every position.</summary>
    private static IEnumerable<string[]> Splits(string text)
    {
        yield return [text];
        yield return text.Select(c => c.ToString()).ToArray();
        for (var i = 1; i < text.Length; i++) yield return [text[..i], text[i..]];
    }

    private static (string Reasoning, string Content, List<ParsedToolCall> Calls) Run(ChatOutputParser parser, IEnumerable<string> pieces)
    {
        var all = pieces.SelectMany(parser.Push).ToList();
        all.AddRange(parser.Finish());
        return (
            string.Concat(all.Where(d => d.Kind == ChatOutputKind.Reasoning).Select(d => d.Text)),
            string.Concat(all.Where(d => d.Kind == ChatOutputKind.Content).Select(d => d.Text)),
            all.Where(d => d.Kind == ChatOutputKind.ToolCall).Select(d => d.ToolCall!).ToList());
    }
}
