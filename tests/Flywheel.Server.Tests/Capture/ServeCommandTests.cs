using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Flywheel.Store;
using Flywheel.Testing;

namespace Flywheel.Server.Tests.Capture;

/// <summary><c>flywheel serve</c> with a store: keys made by <c>flywheel keys create</c> are the keys it takes; bad flags exit 2.</summary>
public class ServeCommandTests
{
    [Fact]
    public async Task Keys_created_by_the_cli_are_the_keys_serve_accepts()
    {
        var data = TestPaths.TempDir();
        var created = ServeProcess.Run("keys", "create", "--tenant", "acme", "--data", data);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var key = created.Stdout.TrimEnd().Split('\n')[^1].Trim();
        using var server = await ServeProcess.StartAsync("--model", TestServer.Stories, "--ctx", "256", "--data", data, "--api-key", "static");
        Assert.Contains("capture on", server.Output);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        async Task<HttpResponseMessage> Post(string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent("{\"prompt\": \"Once\", \"max_tokens\": 3}", Encoding.UTF8, "application/json"),
            };
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return await http.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post("static")).StatusCode); // the store holds keys: only those count
        using var ok = await Post(key);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var id = System.Text.Json.JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await using var store = await FlywheelStore.OpenAsync(data, null);
        Assert.NotNull(await store.GetTrafficAsync("acme", id));
    }

    [Theory]
    [InlineData("--capture", "maybe", "--capture must be on or off")]
    [InlineData("--redact", "email,ssn", "--redact must be all, none, or a comma list")]
    [InlineData("--store", "postgres://u@127.0.0.1:1/db", "either --data DIR or --store URL, not both")]
    public void Bad_store_flags_exit_2_with_one_line(string flag, string value, string message)
    {
        var result = ServeProcess.Run("serve", "--model", TestServer.Stories, "--data", TestPaths.TempDir(), flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
