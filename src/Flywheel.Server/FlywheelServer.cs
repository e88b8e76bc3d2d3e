using Flywheel.Server.Auth;
using Flywheel.Server.Capture;
using Flywheel.Server.Endpoints.OpenAi;
using Flywheel.Server.Endpoints.OpenAi.Chat;
using Flywheel.Server.Endpoints.OpenAi.Completions;
using Flywheel.Server.Endpoints.OpenAi.Embeddings;
using Flywheel.Server.Endpoints.Loop;
using Flywheel.Server.Endpoints.OpenAi.Models;
using Flywheel.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Flywheel.Server.Telemetry;
using OpenTelemetry.Metrics;

namespace Flywheel.Server;

/// <summary>
/// Builds and runs the OpenAI-compatible HTTP server on Kestrel. The server listens at once and loads models in
/// the background; it writes one line to stdout when every model is ready to take requests.
/// </summary>
public static class FlywheelServer
{
    public static WebApplication Build(ServerOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{FormatHost(options.Host)}:{options.Port}");
        builder.Services.AddSingleton(options);
        var models = new ModelRegistry(options);
        builder.Services.AddSingleton(models);
        builder.Services.AddSingleton(new ServingMetrics(models));
        // Built by the container so that it is disposed with the app, writing what is still queued.
        builder.Services.AddSingleton<TrafficCapture>();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServingMetrics.MeterName).AddPrometheusExporter());

        var app = builder.Build();
        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            await OpenAiError.Create(StatusCodes.Status500InternalServerError, $"internal error: {error?.Message}", "server_error", null, null).ExecuteAsync(context);
        }));
        ApiKeyAuthentication.Use(app, options.ApiKeys, options.Store is { } store ? new StoreKeys(store) : null);
        app.MapGet("/health", (ModelRegistry models) => models.LoadError is { } e
            ? Results.Json(new { status = "error", error = e.Message }, statusCode: StatusCodes.Status503ServiceUnavailable)
            : models.AllLoaded
                ? Results.Json(new { status = "ok" })
                : Results.Json(new { status = "loading" }, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapPrometheusScrapingEndpoint("/metrics");
        ModelsEndpoints.Map(app);
        ChatEndpoints.Map(app);
        CompletionsEndpoints.Map(app);
        EmbeddingsEndpoints.Map(app);
        FeedbackEndpoints.Map(app);
        DatasetsEndpoints.Map(app);
        app.MapFallback((HttpContext context) => OpenAiError.NotFound($"no route {context.Request.Method} {context.Request.Path}"));
        return app;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires (Ctrl-C in the CLI).</summary>
    public static async Task<int> RunAsync(ServerOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        await using var app = Build(options);
        var models = app.Services.GetRequiredService<ModelRegistry>();
        await app.StartAsync(cancellationToken);
        try
        {
            await models.WhenAllLoaded();
        }
        catch (Exception)
        {
            log.WriteLine($"flywheel: error: could not load a model: {models.LoadError?.Message}");
            await app.StopAsync(CancellationToken.None);
            return 2;
        }
        var store = options.Store is { } s ? $"; store {s.Description}, capture {(options.Capture ? "on" : "off")}" : "";
        log.WriteLine($"flywheel: serving {string.Join(", ", models.Names)} on http://{FormatHost(options.Host)}:{options.Port} (OpenAI API at /v1){store}");
        log.Flush();
        // The host's console lifetime takes SIGTERM and SIGINT for itself (stopping the app), so wait for that too,
        // not only for the caller's token; otherwise the process never exits on kill.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            cancellationToken, app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync(CancellationToken.None);
        models.Dispose();
        return 0;
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
