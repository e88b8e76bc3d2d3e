using System.Text.Json.Nodes;
using Flywheel.Engine.Constraints;

namespace Flywheel.Server.Endpoints.OpenAi.Chat;

/// <summary>OpenAI's <c>response_format</c>: free text, any JSON object, or a JSON schema, all enforced while decoding.</summary>
public static class ResponseFormat
{
    /// <summary>The schema the answer must follow, or null for free text. Schemas outside the enforced subset are a 400 naming the keyword.</summary>
    public static JsonSchema? Read(RequestFields f)
    {
        var node = f.Body["response_format"];
        if (node is null) return null;
        if (node is not JsonObject format || format["type"] is not JsonValue t || !t.TryGetValue<string>(out var type))
        {
            throw new BadRequestException("'response_format' must be an object with a 'type'", "response_format");
        }
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return JsonSchema.AnyObject;
            case "json_schema":
                if (format["json_schema"] is not JsonObject spec || spec["schema"] is not { } schema)
                {
                    throw new BadRequestException("'response_format.json_schema' must be an object holding the 'schema'", "response_format");
                }
                if (spec["strict"] is { } strict && strict.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
                {
                    throw new BadRequestException("'response_format.json_schema.strict' must be true or false", "response_format");
                }
                try
                {
                    // Strict or not, the schema is enforced: the output always validates.
                    return JsonSchema.Compile(schema);
                }
                catch (UnsupportedSchemaException e)
                {
                    throw new BadRequestException($"'response_format.json_schema.schema': {e.Message}", "response_format");
                }
            default:
                throw new BadRequestException($"'response_format.type' must be \"text\", \"json_object\" or \"json_schema\", not \"{type}\"", "response_format");
        }
    }
}
