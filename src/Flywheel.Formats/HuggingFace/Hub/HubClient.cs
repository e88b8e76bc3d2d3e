using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Flywheel.Formats.HuggingFace.Hub;

/// <summary>
/// A minimal Hugging Face hub client over plain <see cref="HttpClient"/>: lists a repository's files
/// (<c>GET /api/models/{repo}/tree/{revision}</c>) and downloads one (<c>GET /{repo}/resolve/{revision}/{file}</c>).
/// Downloads go to <c>FILE.partial</c>, resume with an HTTP Range request after an interruption, are checked against
/// the hash the hub reports, and are renamed into place only when it matches.
/// Thread-safe for concurrent calls on different files.
/// </summary>
public sealed class HubClient : IDisposable
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string EndpointVariable = "HF_ENDPOINT";
    public const string TokenVariable = "HF_TOKEN";

    /// <summary>Attempts per file: the first plus resumes after a dropped connection.</summary>
    public int MaxAttempts { get; init; } = 5;

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public HubClient(string? endpoint = null, string? token = null, HttpClient? http = null)
    {
        var text = endpoint is { Length: > 0 } ? endpoint : DefaultEndpoint;
        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new HubException($"not an http(s) hub endpoint: {text}");
        }
        Endpoint = uri;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(30) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("flywheel/0.1");
        if (token is { Length: > 0 }) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The hub's base address, ending in '/'.</summary>
    public Uri Endpoint { get; }

    /// <summary>Every file of the repository at <paramref name="revision"/>, with sizes and hashes.</summary>
    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repo, string revision = "main", CancellationToken cancellationToken = default)
    {
        var files = new List<HubFile>();
        Uri? next = new(Endpoint, $"api/models/{repo}/tree/{Uri.EscapeDataString(revision)}?recursive=true");
        while (next is not null)
        {
            using var response = await Send(HttpMethod.Get, next, null, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
            {
                throw new HubException($"repository {repo} not found on {Endpoint.ToString().TrimEnd('/')} (HTTP {(int)response.StatusCode}; a private or gated repository needs ${TokenVariable})");
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new HubException($"listing {repo} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase} from {next}");
            }
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new HubException($"listing {repo}: the hub did not answer with a file list");
                foreach (var e in doc.RootElement.EnumerateArray())
                {
                    if (e.TryGetProperty("type", out var type) && type.GetString() != "file") continue;
                    var path = e.GetProperty("path").GetString() ?? throw new HubException($"listing {repo}: a file without a path");
                    var size = e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : -1;
                    string? sha256 = null;
                    if (e.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                    {
                        sha256 = lfs.TryGetProperty("oid", out var oid) ? oid.GetString() : lfs.TryGetProperty("sha256", out var sh) ? sh.GetString() : null;
                        if (lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number) size = ls.GetInt64();
                    }
                    var blob = e.TryGetProperty("oid", out var o) ? o.GetString() : null;
                    files.Add(new HubFile(path, size, NormalizeHash(sha256, 64), NormalizeHash(blob, 40)));
                }
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new HubException($"listing {repo}: the hub's answer is not a valid file list ({ex.Message})", ex);
            }
            next = NextPage(response);
        }
        return files;
    }

    /// <summary>
    /// Downloads <paramref name="file"/> to <paramref name="destination"/>. A complete file already there (same size)
    /// is kept. Throws <see cref="HubException"/> when the file is missing, the transfer keeps failing, or the hash
    /// does not match (the partial download is then deleted, and nothing is left under the final name).
    /// </summary>
    public async Task DownloadAsync(string repo, HubFile file, string destination, IProgress<HubProgress>? progress = null,
        string revision = "main", CancellationToken cancellationToken = default)
    {
        if (File.Exists(destination) && file.Size >= 0 && new FileInfo(destination).Length == file.Size)
        {
            progress?.Report(new HubProgress(file.Path, file.Size, file.Size, Resumed: true));
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var partial = destination + ".partial";
        var url = new Uri(Endpoint, $"{repo}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}");
        string? headerSha256 = null;
        for (var attempt = 1; ; attempt++)
        {
            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (file.Size >= 0 && have > file.Size)
            {
                File.Delete(partial);
                have = 0;
            }
            if (file.Size >= 0 && have == file.Size) break;
            try
            {
                using var response = await Send(HttpMethod.Get, url, have > 0 ? new RangeHeaderValue(have, null) : null, cancellationToken).ConfigureAwait(false);
                headerSha256 ??= HashFromHeaders(response);
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    // The server has nothing past what we hold: either complete (size unknown) or our partial is stale.
                    if (file.Size < 0) break;
                    File.Delete(partial);
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new HubException($"{repo}: file {file.Path} not found on {Endpoint.ToString().TrimEnd('/')}");
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new HubException($"{repo}: downloading {file.Path} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }
                var resumed = response.StatusCode == HttpStatusCode.PartialContent && have > 0;
                if (!resumed) have = 0; // a 200 answer is the whole file: start over
                var total = file.Size >= 0 ? file.Size : (response.Content.Headers.ContentLength is { } len ? have + len : -1);
                await using (var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                await using (var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
                {
                    progress?.Report(new HubProgress(file.Path, have, total, resumed));
                    var buffer = new byte[1 << 20];
                    int read;
                    while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        have += read;
                        progress?.Report(new HubProgress(file.Path, have, total, resumed));
                    }
                }
                if (file.Size < 0 || have >= file.Size) break;
                // The body ended early without an error (a server that closed cleanly): resume.
                if (attempt >= MaxAttempts) throw new HubException($"{repo}: download of {file.Path} stopped at {have} of {file.Size} bytes");
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= MaxAttempts)
                {
                    throw new HubException($"{repo}: downloading {file.Path} failed after {attempt} attempts: {e.Message}", e);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
        Verify(repo, file, partial, file.Sha256 ?? headerSha256);
        File.Move(partial, destination, overwrite: true);
    }

    private static void Verify(string repo, HubFile file, string partial, string? sha256)
    {
        var length = new FileInfo(partial).Length;
        if (file.Size >= 0 && length != file.Size)
        {
            File.Delete(partial);
            throw new HubException($"{repo}: {file.Path} is {length} bytes, the hub listed {file.Size}; the download was discarded");
        }
        string? expected = null, actual = null, kind = null;
        if (sha256 is not null)
        {
            (expected, kind) = (sha256, "sha256");
            using var stream = File.OpenRead(partial);
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        else if (file.GitBlobId is { } blob)
        {
            // A file kept in git (not LFS) is identified by its blob id: sha1("blob {size}\0" + content).
            (expected, kind) = (blob, "git blob sha1");
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {length}\0"));
            using (var stream = File.OpenRead(partial))
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
            }
            actual = Convert.ToHexStringLower(sha1.GetHashAndReset());
        }
        if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(partial);
            throw new HubException($"{repo}: {file.Path} failed its {kind} check (expected {expected}, got {actual}); the download was discarded");
        }
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, Uri url, RangeHeaderValue? range, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url);
        if (range is not null) request.Headers.Range = range;
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (range is null && method == HttpMethod.Get && !url.AbsolutePath.Contains("/resolve/", StringComparison.Ordinal))
        {
            throw new HubException($"cannot reach {Endpoint.ToString().TrimEnd('/')}: {e.Message}", e);
        }
    }

    /// <summary>The hub puts an LFS file's sha256 in X-Linked-Etag (before the CDN redirect) or the ETag.</summary>
    private static string? HashFromHeaders(HttpResponseMessage response)
    {
        foreach (var name in new[] { "X-Linked-Etag", "ETag" })
        {
            if (response.Headers.TryGetValues(name, out var values) && NormalizeHash(values.FirstOrDefault()?.Replace("W/", "", StringComparison.Ordinal).Trim('"'), 64) is { } h)
            {
                return h;
            }
        }
        return null;
    }

    private static string? NormalizeHash(string? value, int hexLength)
    {
        if (value is null) return null;
        if (value.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)) value = value[7..];
        return value.Length == hexLength && value.All(Uri.IsHexDigit) ? value.ToLowerInvariant() : null;
    }

    /// <summary>The tree listing pages with a Link header: <c>&lt;url&gt;; rel="next"</c>.</summary>
    private static Uri? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var part in string.Join(',', links).Split(','))
        {
            var segments = part.Split(';');
            if (segments.Length > 1 && segments.Skip(1).Any(s => s.Trim() == "rel=\"next\""))
            {
                var url = segments[0].Trim().TrimStart('<').TrimEnd('>');
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri)) return uri;
            }
        }
        return null;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
