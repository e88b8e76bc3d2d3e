using System.Net;
using System.Reflection;
using System.Text.Json;
using Flywheel.Server.Auth;
using Flywheel.Store;
using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;

namespace Flywheel.Server.Tests.Capture;

/// <summary>
/// Every chat and completion response, streamed or not, is in the store under the response's id by the time the
/// client has it, with the request, parameters, output, token counts, latency and finish reason.
/// </summary>
public class CaptureTests
{
    [Fact]
    public async Task Chat_response_is_recorded_under_its_id_before_the_client_has_it()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var reply = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once upon a time", maxTokens: 12));
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        // No flush: the server waited for the record to be durable before it answered.
        var record = await store.GetTrafficAsync(RequestTenant.Default, reply.Id!);
        Assert.NotNull(record);
        Assert.StartsWith("chatcmpl-", record.Id);
        Assert.Equal(TrafficKind.Chat, record.Kind);
        Assert.Equal(RequestTenant.Default, record.Tenant);
        Assert.Equal("stories260K", record.Model);
        Assert.Null(record.Adapter);
        Assert.Equal("""[{"role":"user","content":"Once upon a time"}]""", record.RequestJson);
        var parameters = JsonDocument.Parse(record.ParametersJson!).RootElement;
        Assert.Equal(12, parameters.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0, parameters.GetProperty("temperature").GetInt32());
        Assert.False(parameters.TryGetProperty("messages", out _));
        var choice = reply.Json.GetProperty("choices")[0];
        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), record.OutputText);
        Assert.StartsWith(", there was a little girl", record.OutputText);
        Assert.Equal("length", record.FinishReason);
        Assert.Equal(5, record.PromptTokens);
        Assert.Equal(12, record.CompletionTokens);
        Assert.Null(record.ToolCallsJson);
        Assert.True(record.LatencyMs > 0);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - record.CreatedAt).TotalMinutes) < 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Streamed_chat_is_recorded_with_the_text_the_client_received(bool includeUsage)
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var body = new
        {
            messages = new object[] { new { role = "system", content = "Tell a story." }, new { role = "user", content = "The little dog" } },
            max_tokens = 20,
            temperature = 0,
            stream = true,
            stream_options = new { include_usage = includeUsage },
        };
        var streamed = await Api.StreamAsync(server, "/v1/chat/completions", body);
        Assert.True(streamed.Done);
        Assert.Single(streamed.Ids);
        var record = await store.GetTrafficAsync(RequestTenant.Default, streamed.Id!);
        Assert.NotNull(record);
        Assert.Equal(streamed.Text, record.OutputText);
        Assert.Equal(20, record.CompletionTokens);
        Assert.Equal("length", record.FinishReason);
        Assert.Contains("\"system\"", record.RequestJson);
        Assert.True(JsonDocument.Parse(record.ParametersJson!).RootElement.GetProperty("stream").GetBoolean());
        // The same request unstreamed is recorded with the same text.
        var whole = await Api.PostAsync(server, "/v1/chat/completions", new { body.messages, max_tokens = 20, temperature = 0 });
        Assert.Equal(record.OutputText, (await store.GetTrafficAsync(RequestTenant.Default, whole.Id!))!.OutputText);
    }

    [Fact]
    public async Task Completions_are_recorded_streamed_and_not()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var reply = await Api.PostAsync(server, "/v1/completions", Api.Completion("Lily and Tom", maxTokens: 9));
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var record = await store.GetTrafficAsync(RequestTenant.Default, reply.Id!);
        Assert.NotNull(record);
        Assert.StartsWith("cmpl-", record.Id);
        Assert.Equal(TrafficKind.Completion, record.Kind);
        Assert.Equal("\"Lily and Tom\"", record.RequestJson);
        Assert.Equal(reply.Json.GetProperty("choices")[0].GetProperty("text").GetString(), record.OutputText);
        Assert.Equal(9, record.CompletionTokens);
        Assert.Equal(reply.Json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), record.PromptTokens);

        var streamed = await Api.StreamAsync(server, "/v1/completions", Api.Completion("Lily and Tom", maxTokens: 9, stream: true));
        Assert.True(streamed.Done);
        var streamedRecord = await store.GetTrafficAsync(RequestTenant.Default, streamed.Id!);
        Assert.NotNull(streamedRecord);
        Assert.Equal(record.OutputText, streamedRecord.OutputText);
        Assert.Equal(streamed.Text, streamedRecord.OutputText);
        Assert.Equal(9, streamedRecord.CompletionTokens);
        Assert.Equal("length", streamedRecord.FinishReason);
        Assert.Equal(2, await store.CountTrafficAsync(RequestTenant.Default));
    }

    [Fact]
    public async Task Tool_calls_are_recorded_as_the_client_got_them_streamed_and_not()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { ContextLength = 4096 });
        var body = new Dictionary<string, object>
        {
            ["messages"] = new[] { new { role = "user", content = "What is the weather in Paris?" } },
            ["tools"] = new[]
            {
                new
                {
                    type = "function",
                    function = new
                    {
                        name = "get_weather",
                        parameters = JsonDocument.Parse("""{"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"], "additionalProperties": false}""").RootElement,
                    },
                },
            },
            ["tool_choice"] = "required",
            ["temperature"] = 1,
            ["seed"] = 3,
            ["max_tokens"] = 200,
        };
        var reply = await Api.PostAsync(server, "/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var record = (await store.GetTrafficAsync(RequestTenant.Default, reply.Id!))!;
        Assert.Equal("tool_calls", record.FinishReason);
        var sent = reply.Json.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls");
        Assert.Equal(JsonSerializer.Serialize(sent), JsonSerializer.Serialize(JsonDocument.Parse(record.ToolCallsJson!).RootElement));
        Assert.Contains("get_weather", JsonDocument.Parse(record.ParametersJson!).RootElement.GetProperty("tools").GetRawText());

        body["stream"] = true;
        var streamed = await Api.StreamAsync(server, "/v1/chat/completions", body);
        Assert.True(streamed.Done);
        var streamedRecord = (await store.GetTrafficAsync(RequestTenant.Default, streamed.Id!))!;
        Assert.Equal("tool_calls", streamedRecord.FinishReason);
        var call = JsonDocument.Parse(streamedRecord.ToolCallsJson!).RootElement[0];
        var deltas = streamed.Events.SelectMany(e => e.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("delta").TryGetProperty("tool_calls", out _))
            .SelectMany(c => c.GetProperty("delta").GetProperty("tool_calls").EnumerateArray()).ToList();
        Assert.NotEmpty(deltas);
        Assert.Equal(deltas[0].GetProperty("id").GetString(), call.GetProperty("id").GetString());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(string.Concat(deltas.Select(d => d.GetProperty("function").TryGetProperty("arguments", out var a) ? a.GetString() : "")),
            call.GetProperty("function").GetProperty("arguments").GetString());
        // Same seed, same call, whichever way it was delivered.
        Assert.Equal(sent[0].GetProperty("function").GetProperty("arguments").GetString(), call.GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task Requests_that_fail_are_not_recorded()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.PostAsync(server, "/v1/chat/completions", new { messages = "nope" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("hi", model: "nope"))).Status);
        Assert.Equal(0, await store.CountTrafficAsync(RequestTenant.Default));
    }

    [Fact]
    public async Task Capture_off_for_the_server_records_nothing()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store, o => o with { Capture = false });
        var reply = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once upon a time"));
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.StartsWith("chatcmpl-", reply.Id);
        Assert.True((await Api.StreamAsync(server, "/v1/completions", Api.Completion("Once", stream: true))).Done);
        Assert.Equal(0, await store.CountTrafficAsync(RequestTenant.Default));
        // Feedback on an unrecorded response has nothing to attach to.
        Assert.Equal(HttpStatusCode.NotFound, (await Api.PostAsync(server, "/v1/feedback", new { id = reply.Id, rating = "up" })).Status);
    }

    [Fact]
    public async Task Capture_off_for_one_tenant_records_only_the_others()
    {
        await using var store = await TestStores.OpenAsync();
        var quiet = await store.CreateApiKeyAsync("quiet");
        var loud = await store.CreateApiKeyAsync("loud");
        await store.SetTenantSettingsAsync("quiet", new TenantSettings(CaptureEnabled: false));
        await using var server = await TestStores.ServeAsync(store);
        foreach (var key in new[] { quiet.Key, loud.Key })
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once"), key)).Status);
            Assert.True((await Api.StreamAsync(server, "/v1/chat/completions", Api.Chat("Once", stream: true), key)).Done);
        }
        Assert.Equal(0, await store.CountTrafficAsync("quiet"));
        Assert.Equal(2, await store.CountTrafficAsync("loud"));
    }

    private const string Personal = "Write to lily@example.com or call +1 415 555 0100 about ID 11010519491231002X.";

    [Fact]
    public async Task Personal_data_is_redacted_before_it_is_stored()
    {
        await using var store = await TestStores.OpenAsync();
        await using var server = await TestStores.ServeAsync(store);
        var reply = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat(Personal, maxTokens: 2));
        var record = await store.GetTrafficAsync(RequestTenant.Default, reply.Id!);
        Assert.Contains("Write to [EMAIL] or call [PHONE] about ID [ID].", record!.RequestJson);
        Assert.DoesNotContain("lily@example.com", record.RequestJson);
    }

    [Fact]
    public async Task Redaction_follows_the_server_flag_and_the_tenant_setting()
    {
        await using var store = await TestStores.OpenAsync();
        var open = await store.CreateApiKeyAsync("open");
        var careful = await store.CreateApiKeyAsync("careful");
        await store.SetTenantSettingsAsync("open", new TenantSettings(RedactionEnabled: false));
        // --redact email: only e-mail addresses, and only for tenants with redaction on.
        await using var server = await TestStores.ServeAsync(store, o => o with { Redaction = new RedactionOptions(Emails: true, PhoneNumbers: false, IdentityNumbers: false) });
        var a = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat(Personal, maxTokens: 2), open.Key);
        var b = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat(Personal, maxTokens: 2), careful.Key);
        Assert.Contains(Personal, (await store.GetTrafficAsync("open", a.Id!))!.RequestJson);
        Assert.Contains("Write to [EMAIL] or call +1 415 555 0100 about ID 11010519491231002X.", (await store.GetTrafficAsync("careful", b.Id!))!.RequestJson);
    }

    [Fact]
    public async Task A_response_that_cannot_be_recorded_is_withheld()
    {
        await using var inner = await TestStores.OpenAsync();
        var store = FailingWrites.Wrap(inner);
        await using var server = await TestStores.ServeAsync(store);
        var reply = await Api.PostAsync(server, "/v1/chat/completions", Api.Chat("Once"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
        Assert.Equal("capture_failed", reply.ErrorCode);
        var streamed = await Api.StreamAsync(server, "/v1/chat/completions", Api.Chat("Once", stream: true));
        Assert.False(streamed.Done);
        Assert.Equal("capture_failed", streamed.Events[^1].GetProperty("error").GetProperty("code").GetString());
        // The server keeps serving; embeddings are not captured and still work.
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(server, "/v1/embeddings", new { input = "hi" })).Status);
    }

    /// <summary>A store whose traffic writes fail, as a full disk or a lost database would make them.</summary>
    public class FailingWrites : DispatchProxy
    {
        private IFlywheelStore _inner = null!;

        public static IFlywheelStore Wrap(IFlywheelStore inner)
        {
            var proxy = Create<IFlywheelStore, FailingWrites>();
            ((FailingWrites)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IFlywheelStore.WriteTrafficAsync)) return Task.FromException(new StoreException("disk full (test)"));
            try
            {
                return method.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
    }
}
