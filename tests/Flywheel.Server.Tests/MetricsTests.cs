using System.Text;

namespace Flywheel.Server.Tests;

public class MetricsTests
{
    [Fact]
    public async Task Metrics_report_requests_tokens_latency_queue_and_cache()
    {
        await using var server = await TestServer.StartAsync();
        using var reply = await server.Http.PostAsync("/v1/completions",
            new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 7, \"temperature\": 0}", Encoding.UTF8, "application/json"));
        reply.EnsureSuccessStatusCode();
        var text = await server.Http.GetStringAsync("/metrics");
        Assert.Matches("flywheel_tokens_completion[a-z_]*\\{[^}]*model=\"stories260K\"[^}]*\\} 7", text);
        Assert.Matches("flywheel_tokens_prompt[a-z_]*\\{[^}]*\\} 5", text);
        Assert.Contains("flywheel_time_to_first_token", text);
        Assert.Contains("flywheel_inter_token_latency", text);
        Assert.Contains("flywheel_queue_depth", text);
        Assert.Contains("flywheel_kv_cache_usage", text);
        Assert.Matches("flywheel_requests[a-z_]*\\{[^}]*endpoint=\"completions\"[^}]*outcome=\"ok\"", text);
    }
}
