using System.Text.Json.Nodes;
using Flywheel.Tokenizers.ChatTemplates;

namespace Flywheel.Tokenizers.Tests.ChatTemplates;

public class ChatTemplateTests
{
    private static string Render(string template, params (string Name, object? Value)[] variables) =>
        ChatTemplate.Parse(template).Render(variables.ToDictionary(v => v.Name, v => v.Value), () => GoldenFixtures.FixedNow);

    [Fact]
    public void Unclosed_print_tag_reports_where_it_opened()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("line one\nHello {{ name "));
        Assert.Equal("unexpected end of template, expected 'end of print statement'.", ex.Reason);
        Assert.Equal((2, 7), (ex.Line, ex.Column));
        Assert.Contains("line 2, column 7", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unclosed_block_reports_the_open_block()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("{% for m in messages %}\n{% if m %}x{% endif %}\n"));
        Assert.Contains("'endfor' or 'else'", ex.Reason, StringComparison.Ordinal);
        Assert.Contains("innermost block that needs to be closed is 'for'", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_filter_is_a_parse_error_with_position()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("ok\n  {{ name | shout }}"));
        Assert.Equal("No filter named 'shout'.", ex.Reason);
        Assert.Equal(2, ex.Line);
        Assert.Equal(13, ex.Column);
    }

    [Fact]
    public void Unknown_tag_and_stray_end_tag_are_parse_errors()
    {
        Assert.Equal("Encountered unknown tag 'frobnicate'.", Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("{% frobnicate %}")).Reason);
        Assert.Equal("Encountered unknown tag 'endif'.", Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("x{% endif %}")).Reason);
    }

    [Fact]
    public void Raise_exception_surfaces_the_template_message()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}\n{% if m.role == 'tool' %}{{ raise_exception('no tools here: ' ~ m.role) }}{% endif %}{% endfor %}");
        var context = ChatTemplateContext.FromJson("""[{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]""");
        var ex = Assert.Throws<ChatTemplateException>(() => template.Render(context));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("no tools here: tool", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Runtime_errors_carry_the_failing_expression_position()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => Render("a\nb {{ missing.attr }}"));
        Assert.Equal("'missing' is undefined", ex.Reason);
        Assert.False(ex.RaisedByTemplate);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Python_value_semantics()
    {
        Assert.Equal("1.0|True|None|{'a': 1}|[1, 'x']|abab|3|3.5", Render("{{ 1.0 }}|{{ true }}|{{ none }}|{{ {'a': 1} }}|{{ [1, 'x'] }}|{{ 'ab' * 2 }}|{{ 7 // 2 }}|{{ 7 / 2 }}"));
        Assert.Equal("[]|", Render("[{{ undefined_name }}]|{{ undefined_name | join }}"));
    }

    [Fact]
    public void Context_builds_messages_tools_and_variables_like_transformers()
    {
        var context = new ChatTemplateContext { AddGenerationPrompt = true, EosToken = "</s>" };
        context.Messages.Add(new ChatTemplateMessage("user", "天气？"));
        var call = new ChatTemplateMessage("assistant", null)
        {
            ToolCalls = [new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "weather", ["arguments"] = new JsonObject { ["city"] = "北京" } } }],
        };
        context.Messages.Add(call);
        context.Messages.Add(new ChatTemplateMessage("tool", "晴") { ToolCallId = "1" });
        context.Variables["enable_thinking"] = false;
        var template = ChatTemplate.Parse(
            "{% for m in messages %}{{ m.role }}:{{ m.content }}:{{ 'tool_calls' in m }}:{{ m.tool_call_id }}"
            + "{% for c in m.tool_calls or [] %}={{ c.function.arguments | tojson }}{% endfor %};{% endfor %}"
            + "{{ tools }}|{{ documents }}|{{ add_generation_prompt }}|{{ bos_token is defined }}|{{ eos_token }}|{{ enable_thinking }}");
        Assert.Equal(
            "user:天气？:False:;assistant:None:True:={\"city\": \"北京\"};tool:晴:False:1;None|None|True|False|</s>|False",
            template.Render(context));
    }

    [Fact]
    public void FromJson_accepts_a_request_object()
    {
        var context = ChatTemplateContext.FromJson(
            """{"messages": [{"role": "user", "content": "hi", "extra": 1}], "tools": [{"type": "function"}], "documents": [{"title": "t"}], "add_generation_prompt": true, "enable_thinking": false}""");
        Assert.Single(context.Messages);
        Assert.Equal("user", context.Messages[0].Role);
        Assert.NotNull(context.Tools);
        Assert.True(context.AddGenerationPrompt);
        var output = ChatTemplate.Parse("{{ messages[0] }}|{{ tools | length }}|{{ enable_thinking }}|{{ documents[0].title }}").Render(context);
        Assert.Equal("{'role': 'user', 'content': 'hi', 'extra': 1}|1|False|t", output);
    }

    [Fact]
    public void Strftime_now_uses_the_context_clock()
    {
        var context = new ChatTemplateContext { Clock = () => new DateTimeOffset(2024, 7, 26, 0, 0, 0, TimeSpan.Zero) };
        Assert.Equal("26 Jul 2024", ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }}").Render(context));
    }

    [Fact]
    public void Parsed_template_renders_concurrently()
    {
        var template = ChatTemplate.Parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
        var results = Enumerable.Range(0, 16).AsParallel().Select(i =>
        {
            var context = new ChatTemplateContext();
            for (var k = 0; k < i; k++)
            {
                context.Messages.Add(new ChatTemplateMessage("user", "x"));
            }

            return template.Render(context) == i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }).ToList();
        Assert.All(results, Assert.True);
    }

    [Fact]
    public void Runaway_recursion_is_a_template_error_not_a_crash()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
        Assert.Equal("maximum recursion depth exceeded", ex.Reason);
    }

    [Fact]
    public void Host_exceptions_become_template_errors()
    {
        Assert.Throws<ChatTemplateException>(() => Render("{{ [1] | batch }}"));
        Assert.Throws<ChatTemplateException>(() => Render("{{ 'x' is divisibleby }}"));
    }

    [Fact]
    public void Deeply_nested_source_is_a_parse_error()
    {
        var source = "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}";
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal("template nested too deeply", ex.Reason);
    }

    [Fact]
    public void FromJson_accepts_json_elements()
    {
        using var messages = System.Text.Json.JsonDocument.Parse("""[{"role": "user", "content": "1.0 and 2"}]""");
        using var tools = System.Text.Json.JsonDocument.Parse("""[{"n": 1.0, "m": 2}]""");
        var context = ChatTemplateContext.FromJson(messages.RootElement, tools.RootElement);
        Assert.Equal("user|1.0 2", ChatTemplate.Parse("{{ messages[0].role }}|{{ tools[0].n }} {{ tools[0].m }}").Render(context));
    }
}
