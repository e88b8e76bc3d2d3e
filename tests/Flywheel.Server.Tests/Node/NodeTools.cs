using System.Diagnostics;
using System.Security.Cryptography;
using Flywheel.Testing;

namespace Flywheel.Server.Tests.Node;

/// <summary>
/// Finds node and npm, installs the pinned npm packages of tests/Flywheel.Server.Tests/Node once per lock file into
/// a cache folder under the temp folder (so reruns need no network), and runs scripts there.
/// </summary>
internal static class NodeTools
{
    public static string SourceDir => Path.Combine(TestPaths.RepoRoot, "tests", "Flywheel.Server.Tests", "Node");

    public static string? Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>
    /// A folder holding package.json, package-lock.json and node_modules installed by <c>npm ci</c>. Keyed by the
    /// lock file's hash, guarded by a lock file so parallel test processes install once, and marked complete only
    /// after npm succeeded, so an interrupted install is redone.
    /// </summary>
    public static string Install()
    {
        var lockBytes = File.ReadAllBytes(Path.Combine(SourceDir, "package-lock.json"));
        var key = Convert.ToHexStringLower(SHA256.HashData(lockBytes))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "flywheel-tests", $"node-{key}");
        Directory.CreateDirectory(dir);
        var done = Path.Combine(dir, "installed.ok");
        using var guard = Guard(Path.Combine(dir, "install.lock"));
        if (File.Exists(done)) return dir;
        File.Copy(Path.Combine(SourceDir, "package.json"), Path.Combine(dir, "package.json"), overwrite: true);
        File.WriteAllBytes(Path.Combine(dir, "package-lock.json"), lockBytes);
        var npm = Run(dir, TimeSpan.FromMinutes(3), "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        if (npm.ExitCode != 0) throw new InvalidOperationException($"npm ci failed ({npm.ExitCode}) in {dir}: {npm.Stderr}");
        File.WriteAllText(done, DateTimeOffset.UtcNow.ToString("O"));
        return dir;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string workingDirectory, TimeSpan timeout, string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(Find(tool) ?? tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static FileStream Guard(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }
}
