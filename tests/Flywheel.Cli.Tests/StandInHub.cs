using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Flywheel.Cli.Tests;

/// <summary>
/// A stand-in for the Hugging Face hub on 127.0.0.1 (HttpListener): the tree listing and resolve endpoints for the
/// repositories added to it, with Range support, an optional one-time connection cut mid-file, and an optional wrong
/// sha256 in the listing. Records every request's path and Range header.
/// </summary>
internal sealed class StandInHub : IDisposable
{
    private sealed record RepoFile(string Path, byte[] Content, bool Lfs, string? ListedSha256);

    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, List<RepoFile>> _repos = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _cutOnce = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public StandInHub()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Endpoint { get; }

    /// <summary>(path, Range header or null) of every request, in arrival order.</summary>
    public ConcurrentQueue<(string Path, string? Range)> Requests { get; } = new();

    public StandInHub Add(string repo, string path, byte[] content, bool lfs = true, string? wrongSha256 = null)
    {
        if (!_repos.TryGetValue(repo, out var files)) _repos[repo] = files = [];
        files.Add(new RepoFile(path, content, lfs, wrongSha256));
        return this;
    }

    /// <summary>The next full download of <paramref name="path"/> stops halfway with a dropped connection.</summary>
    public void CutOnce(string path) => _cutOnce[path] = true;

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => Handle(context));
        }
    }

    private void Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Requests.Enqueue((path, request.Headers["Range"]));
        try
        {
            if (path.StartsWith("/api/models/", StringComparison.Ordinal) && path.Contains("/tree/main", StringComparison.Ordinal))
            {
                var repo = path["/api/models/".Length..path.IndexOf("/tree/main", StringComparison.Ordinal)];
                if (!_repos.TryGetValue(repo, out var files))
                {
                    Reply(response, 404, """{"error":"Repository not found"}""");
                    return;
                }
                var listing = files.Select(f => new Dictionary<string, object?>
                {
                    ["type"] = "file",
                    ["path"] = f.Path,
                    ["size"] = f.Content.Length,
                    ["oid"] = GitBlobId(f.Lfs ? Encoding.ASCII.GetBytes("version https://git-lfs.github.com/spec/v1\n") : f.Content),
                    ["lfs"] = f.Lfs ? new Dictionary<string, object> { ["oid"] = f.ListedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(f.Content)), ["size"] = f.Content.Length, ["pointerSize"] = 130 } : null,
                });
                Reply(response, 200, JsonSerializer.Serialize(listing));
                return;
            }
            var marker = path.IndexOf("/resolve/main/", StringComparison.Ordinal);
            if (marker > 0 && _repos.TryGetValue(path[1..marker], out var repoFiles)
                && repoFiles.FirstOrDefault(f => f.Path == path[(marker + "/resolve/main/".Length)..]) is { } file)
            {
                var content = file.Content;
                var from = 0;
                if (request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
                {
                    from = int.Parse(range["bytes=".Length..].TrimEnd('-'));
                    if (from >= content.Length)
                    {
                        response.StatusCode = 416;
                        response.Close();
                        return;
                    }
                    response.StatusCode = 206;
                    response.AddHeader("Content-Range", $"bytes {from}-{content.Length - 1}/{content.Length}");
                }
                response.ContentLength64 = content.Length - from;
                if (from == 0 && _cutOnce.TryRemove(file.Path, out _))
                {
                    response.OutputStream.Write(content, 0, content.Length / 2);
                    response.OutputStream.Flush();
                    response.Abort(); // the connection drops mid-file
                    return;
                }
                response.OutputStream.Write(content, from, content.Length - from);
                response.Close();
                return;
            }
            Reply(response, 404, """{"error":"Entry not found"}""");
        }
        catch (Exception) when (!_listener.IsListening)
        {
        }
        catch (HttpListenerException)
        {
        }
    }

    private static void Reply(HttpListenerResponse response, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }

    public static string GitBlobId(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    public void Dispose()
    {
        // Close alone: on Linux, Stop followed by Close unregisters the prefixes twice, and the second pass re-binds
        // the port to look them up, which throws if a parallel test has taken it in between.
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
        }
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
