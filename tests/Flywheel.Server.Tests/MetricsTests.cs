using System.Text;

namespace Flywheel.Server.Tests;

/// <summary>
/// Every server in the test process exports meters named <see cref="Telemetry.ServingMetrics.MeterName"/>, so the
/// counts are checked alone, after the parallel tests, where no other server adds to them.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

[Collection(nameof(MetricsTests))]
public class MetricsTests
{
    [Fact]
    public async Task Metrics_report_requests_tokens_latency_queue_and_cache()
    {
        // A model name of its own: test servers share the process, and a meter listener sees every server's meter.
        await using var server = await TestServer.StartAsync(o => o with { Models = [new("metrics-probe", TestServer.Stories)] });
        using var reply = await server.Http.PostAsync("/v1/completions",
            new StringContent("{\"prompt\": \"Once upon a time\", \"max_tokens\": 7, \"temperature\": 0}", Encoding.UTF8, "application/json"));
        reply.EnsureSuccessStatusCode();
        var text = await server.Http.GetStringAsync("/metrics");
        Assert.Matches("flywheel_tokens_completion[a-z_]*\\{[^}]*model=\"metrics-probe\"[^}]*\\} 7", text);
        Assert.Matches("flywheel_tokens_prompt[a-z_]*\\{[^}]*model=\"metrics-probe\"[^}]*\\} 5", text);
        Assert.Contains("flywheel_time_to_first_token", text);
        Assert.Contains("flywheel_inter_token_latency", text);
        Assert.Contains("flywheel_queue_depth", text);
        Assert.Contains("flywheel_kv_cache_usage", text);
        Assert.Matches("flywheel_requests[a-z_]*\\{[^}]*endpoint=\"completions\"[^}]*model=\"metrics-probe\"[^}]*outcome=\"ok\"[^}]*\\} 1", text);
    }
}
