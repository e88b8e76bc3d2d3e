using System.Text;
using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;

namespace Flywheel.Engine.Tests.Constraints;

/// <summary>The byte-level matcher on many schemas: valid documents pass byte by byte, invalid ones are refused.</summary>
public class JsonMatcherTests
{
    private const string Person = """
        {"type": "object", "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 5}, "age": {"type": "integer"},
         "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2}}, "required": ["name"], "additionalProperties": false}
        """;

    public static TheoryData<string, string, bool> Cases => new()
    {
        // Plain types.
        { """{"type": "string"}""", "\"hi\"", true },
        { """{"type": "string"}""", "\"tab\\tquote\\\"u\\u00e9\"", true },
        { """{"type": "string"}""", "\"raw\ttab\"", false },
        { """{"type": "string"}""", "\"bad \\x escape\"", false },
        { """{"type": "string"}""", "\"lone \\ud800 surrogate\"", false },
        { """{"type": "string"}""", "\"é ü 漢字 🙂\"", true },
        { """{"type": "string"}""", "42", false },
        { """{"type": "string", "maxLength": 3}""", "\"abc\"", true },
        { """{"type": "string", "maxLength": 3}""", "\"abcd\"", false },
        { """{"type": "string", "maxLength": 2}""", "\"🙂é\"", true },
        { """{"type": "string", "minLength": 2}""", "\"a\"", false },
        { """{"type": "integer"}""", "-120", true },
        { """{"type": "integer"}""", "1.5", false },
        { """{"type": "integer"}""", "012", false },
        { """{"type": "number"}""", "-0.25e+10", true },
        { """{"type": "number"}""", "1.", false },
        { """{"type": "number"}""", ".5", false },
        { """{"type": "number"}""", "1e", false },
        { """{"type": "boolean"}""", "false", true },
        { """{"type": "boolean"}""", "fals", false },
        { """{"type": "null"}""", "null", true },
        { """{"type": ["string", "null"]}""", "null", true },
        { """{"type": ["string", "null"]}""", "\"x\"", true },
        { """{"type": ["string", "null"]}""", "1", false },
        { """{"type": "string", "nullable": true}""", "null", true },
        { """{}""", """{"any": [1, "two", {"three": null}, true]}""", true },
        { """true""", "[]", true },
        // Objects.
        { Person, """{"name": "Ann", "age": 31, "tags": ["a", "b"]}""", true },
        { Person, """{"age": 31, "name": "Ann"}""", true },
        { Person, """{ "name" : "Ann" }""", true },
        { Person, "{\n  \"name\": \"Ann\"\n}", true },
        { Person, """{"age": 31}""", false },
        { Person, """{"name": ""}""", false },
        { Person, """{"name": "Ann", "nick": "A"}""", false },
        { Person, """{"name": "Ann", "name": "Bob"}""", false },
        { Person, """{"name": "Ann", "tags": ["a", "b", "a"]}""", false },
        { Person, """{"name": "Ann", "tags": ["c"]}""", false },
        { Person, """{"name": "Ann",}""", false },
        { Person, """{"name": "Ann"} x""", false },
        { """{"type": "object"}""", """{"free": 1, "keys": [2]}""", true },
        { """{"type": "object"}""", """{"dup": 1, "dup": 2}""", false },
        { """{"type": "object", "additionalProperties": {"type": "integer"}}""", """{"a": 1, "b": 2}""", true },
        { """{"type": "object", "additionalProperties": {"type": "integer"}}""", """{"a": "x"}""", false },
        { """{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}""", """{"a": 1}""", false },
        { """{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}""", """{"b": [], "a": 1}""", true },
        { "{\"type\": \"object\", \"properties\": {\"say \\\"hi\\\"\": {\"type\": \"integer\"}}, \"additionalProperties\": false}", "{\"say \\\"hi\\\"\": 1}", true },
        // Arrays.
        { """{"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}""", "[1, 2, 3]", true },
        { """{"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}""", "[]", false },
        { """{"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}""", "[1,2,3,4]", false },
        { """{"type": "array", "items": {"type": "integer"}}""", "[1,]", false },
        { """{"type": "array", "items": {"type": "integer"}}""", "[[1]]", false },
        // enum, const, anyOf, $ref.
        { """{"enum": ["red", "green", 3, null]}""", "\"green\"", true },
        { """{"enum": ["red", "green", 3, null]}""", "3", true },
        { """{"enum": ["red", "green", 3, null]}""", "\"blue\"", false },
        { """{"enum": [1, 12]}""", "1", true },
        { """{"enum": [1, 12]}""", "12", true },
        { """{"enum": [1, 12]}""", "123", false },
        { """{"const": {"k": [1, 2]}}""", """{"k":[1,2]}""", true },
        { """{"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}, {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"], "additionalProperties": false}]}""", """{"b": "x"}""", true },
        { """{"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}, {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"], "additionalProperties": false}]}""", """{"a": "x"}""", false },
        { """{"$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["next"], "additionalProperties": false}}, "$ref": "#/$defs/node"}""", """{"next": {"next": {"next": null}}}""", true },
        { """{"$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["next"], "additionalProperties": false}}, "$ref": "#/$defs/node"}""", """{"next": {"next": 1}}""", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Accepts_valid_and_refuses_invalid_documents_byte_by_byte(string schema, string document, bool valid)
    {
        var matcher = new JsonMatcher(JsonSchema.Compile(JsonNode.Parse(schema)));
        var bytes = Encoding.UTF8.GetBytes(document);
        var accepted = 0;
        while (accepted < bytes.Length && matcher.TryAdvance(bytes.AsSpan(accepted, 1))) accepted++;
        var matched = accepted == bytes.Length && matcher.IsAccepting;
        Assert.True(valid == matched, $"{(valid ? "refused" : "accepted")} {document}: stopped at byte {accepted}");
        if (valid)
        {
            // The independent validator agrees (keeps the cases honest).
            Assert.True(SchemaValidator.IsValid(JsonNode.Parse(document), JsonNode.Parse(schema)!));
        }
    }

    [Fact]
    public void A_refused_byte_leaves_the_matcher_where_it_was()
    {
        var matcher = new JsonMatcher(JsonSchema.Compile(JsonNode.Parse("""{"type": "array", "items": {"type": "integer"}}""")));
        Assert.True(matcher.TryAdvance("[1"));
        Assert.False(matcher.TryAdvance(",]"));
        Assert.True(matcher.TryAdvance(", 2]"));
        Assert.True(matcher.IsAccepting);
        Assert.True(matcher.IsFinished);
    }

    [Fact]
    public void A_number_at_the_top_is_complete_but_not_finished()
    {
        var matcher = new JsonMatcher(JsonSchema.Compile(JsonNode.Parse("""{"type": "number"}""")));
        Assert.True(matcher.TryAdvance("12"));
        Assert.True(matcher.IsAccepting);
        Assert.False(matcher.IsFinished);
        Assert.True(matcher.TryAdvance(".5"));
    }

    [Fact]
    public void Whitespace_between_tokens_is_bounded()
    {
        var matcher = new JsonMatcher(JsonSchema.AnyObject);
        Assert.True(matcher.TryAdvance("{" + new string(' ', 8)));
        Assert.False(matcher.TryAdvance(" "));
        Assert.True(matcher.TryAdvance("}"));
    }

    [Fact]
    public void Numbers_are_bounded_so_they_end()
    {
        var matcher = new JsonMatcher(JsonSchema.Compile(JsonNode.Parse("""{"type": "integer"}""")));
        Assert.True(matcher.TryAdvance(new string('9', 16)));
        Assert.False(matcher.TryAdvance("9"));
    }

    [Fact]
    public void Prefix_and_suffix_surround_the_value()
    {
        var matcher = new JsonMatcher(JsonSchema.AnyObject, "<tool_call>\n", "\n</tool_call>");
        Assert.False(matcher.CanAdvance("{"u8));
        Assert.True(matcher.TryAdvance("<tool_call>\n{\"a\": 1}"));
        Assert.False(matcher.IsAccepting);
        Assert.True(matcher.TryAdvance("\n</tool_call>"));
        Assert.True(matcher.IsAccepting);
        Assert.True(matcher.IsFinished);
    }

    [Theory]
    [InlineData("""{"type": "string", "pattern": "^a"}""", "pattern")]
    [InlineData("""{"type": "string", "format": "date-time"}""", "format")]
    [InlineData("""{"type": "integer", "minimum": 0}""", "minimum")]
    [InlineData("""{"oneOf": [{"type": "string"}]}""", "oneOf")]
    [InlineData("""{"allOf": [{"type": "string"}]}""", "allOf")]
    [InlineData("""{"type": "object", "properties": {"a": {"not": {}}}}""", "not")]
    [InlineData("""{"$ref": "https://example.com/schema.json"}""", "$ref")]
    [InlineData("""{"$ref": "#/$defs/missing"}""", "$ref")]
    [InlineData("""{"type": "array", "minItems": 3, "maxItems": 2}""", "minItems")]
    [InlineData("""{"type": "string", "minLength": 3, "maxLength": 2}""", "minLength")]
    [InlineData("""{"type": "string", "enum": [1, 2]}""", "enum")]
    [InlineData("""{"type": "object", "required": ["x"], "additionalProperties": false}""", "required")]
    [InlineData("""{"type": "text"}""", "type")]
    [InlineData("""false""", "false")]
    public void Unsupported_or_unsatisfiable_schemas_are_refused_by_keyword(string schema, string keyword)
    {
        var e = Assert.Throws<UnsupportedSchemaException>(() => JsonSchema.Compile(JsonNode.Parse(schema)));
        Assert.Equal(keyword, e.Keyword);
        Assert.Contains($"'{keyword}'", e.Message);
    }
}
