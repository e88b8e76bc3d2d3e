using System.Net;
using System.Net.Sockets;
using Flywheel.Server.Hosting;
using Flywheel.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server.Tests;

/// <summary>A real Flywheel server on a free loopback port, serving shared test models.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public static string Stories => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    private readonly WebApplication _app;

    private TestServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    public Uri BaseAddress { get; }
    public HttpClient Http { get; }
    public ModelRegistry Models => _app.Services.GetRequiredService<ModelRegistry>();

    public static async Task<TestServer> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, bool waitForModels = true)
    {
        var port = FreePort();
        var options = new ServerOptions { Models = [new("stories260K", Stories)], Port = port, ContextLength = 256 };
        options = configure?.Invoke(options) ?? options;
        var app = FlywheelServer.Build(options);
        await app.StartAsync();
        var server = new TestServer(app, new Uri($"http://127.0.0.1:{port}/"));
        if (waitForModels) await server.Models.WhenAllLoaded();
        return server;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        var models = Models;
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        models.Dispose();
    }
}
