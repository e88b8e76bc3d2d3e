using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Flywheel.Kernels;
using Flywheel.Kernels.Cpu;
using Flywheel.Models;
using Flywheel.Models.Layers;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel bench --model MODEL [--threads N] [--pp 512] [--tg 128] [--reps 5] [--json]</c>: llama-bench's two
/// figures, so they compare directly. pp: one prefill of pp tokens from an empty cache; tg: tg decode steps from an
/// empty cache, one token at a time. Token ids are fixed pseudo-random ids (as llama-bench uses random tokens). Each
/// figure is the median tok/s over reps runs after one warm-up run. Peak RSS is VmHWM from /proc/self/status.
/// With --json the last line is one JSON object: pp_tok_s, tg_tok_s, peak_rss_bytes, threads, model, kernels.
/// The kernel set is FLYWHEEL_KERNELS's choice; the SIMD set runs with exactly --threads threads.
/// <c>flywheel bench --bandwidth [--threads N] [--buffer-mib 1024] [--reps 5] [--json]</c> measures memory read
/// bandwidth instead (<see cref="BenchBandwidth"/>); its JSON line is bandwidth_gb_s, reps_gb_s, buffer_bytes,
/// threads, vector_bits.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "A GGUF file, Hugging Face folder, pulled model or hub id." };
        var threads = new Option<int?>("--threads", "-t") { Description = "CPU threads (default: the physical cores)." };
        var pp = new Option<int>("--pp") { Description = "Prompt tokens to prefill (0 skips).", DefaultValueFactory = _ => 512 };
        var tg = new Option<int>("--tg") { Description = "Tokens to generate (0 skips).", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--reps", "-r") { Description = "Repetitions; the median is reported.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on the last line." };
        var batch = new Option<int>("--batch") { Description = "Also decode this many sequences together for --tg steps (one row each per step) and report their aggregate tok/s.", DefaultValueFactory = _ => 0 };
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Measure memory read bandwidth instead of a model." };
        var bufferMib = new Option<int>("--buffer-mib") { Description = "Buffer size for --bandwidth, far above the last-level cache.", DefaultValueFactory = _ => 1024 };
        var command = new Command("bench", "Measure prompt processing and generation speed (as llama-bench does).");
        foreach (var o in new Option[] { model, threads, pp, tg, reps, json, batch, bandwidth, bufferMib }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var ppTokens = parse.GetValue(pp);
            var tgTokens = parse.GetValue(tg);
            var repetitions = parse.GetValue(reps);
            if (ppTokens < 0 || tgTokens < 0) throw new CliUsageException("--pp and --tg must not be negative");
            if (repetitions < 1) throw new CliUsageException($"--reps must be at least 1, got {repetitions}");
            var batchSize = parse.GetValue(batch);
            if (batchSize < 0) throw new CliUsageException($"--batch must not be negative, got {batchSize}");
            var threadCount = parse.GetValue(threads);
            Threads.Apply(threadCount);
            var n = threadCount ?? KernelSets.ThreadCount;
            if (parse.GetValue(bandwidth))
            {
                if (parse.GetValue(model) is not null) throw new CliUsageException("--bandwidth measures memory, not a model: leave out --model");
                return Bandwidth(n, parse.GetValue(bufferMib), repetitions, parse.GetValue(json));
            }
            var path = ModelResolver.Resolve(parse.GetValue(model) ?? throw new CliUsageException("--model is required (or --bandwidth)"));
            var kernels = KernelSets.Default is CpuKernels ? KernelSets.Create(Environment.GetEnvironmentVariable(KernelSets.EnvironmentVariable), n) : KernelSets.Default;
            var profile = Environment.GetEnvironmentVariable(ProfileVariable)?.Trim().ToLowerInvariant();
            if (profile is not (null or "" or "pp" or "tg")) throw new CliUsageException($"{ProfileVariable} takes pp or tg, not '{profile}'");
            using var loaded = Model.Load(path, string.IsNullOrEmpty(profile) ? kernels : new TimedKernels(kernels) { Paused = true });
            var result = Run(loaded, ppTokens, tgTokens, repetitions, Console.Out, profile);
            var batchTg = batchSize > 0 && tgTokens > 0 ? RunBatch(loaded, batchSize, tgTokens, repetitions, Console.Out, profile == "tg") : 0;
            var rss = PeakRssBytes();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)} kernels={kernels.Name} threads={n}: pp{ppTokens} {result.Pp:F2} tok/s, tg{tgTokens} {result.Tg:F2} tok/s, peak RSS {rss / 1048576.0:F1} MiB"));
            if (batchSize > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"batch {batchSize}: {batchTg:F2} tok/s together, {batchTg / Math.Max(result.Tg, 1e-9):F2}x one sequence's tg"));
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"pp_tok_s\": {result.Pp:F3}, \"tg_tok_s\": {result.Tg:F3}, \"batch\": {batchSize}, \"batch_tg_tok_s\": {batchTg:F3}, \"peak_rss_bytes\": {rss}, \"threads\": {n}, \"model\": {System.Text.Json.JsonSerializer.Serialize(path)}, \"kernels\": \"{kernels.Name}\"}}"));
            }
            (kernels as IDisposable)?.Dispose();
            return 0;
        }));
        return command;
    }

    private static int Bandwidth(int threads, int bufferMib, int reps, bool json)
    {
        if (bufferMib < 1) throw new CliUsageException($"--buffer-mib must be at least 1, got {bufferMib}");
        var r = BenchBandwidth.Measure(bufferMib * 1048576L, threads, reps);
        for (var i = 0; i < r.RepsGBps.Count; i++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rep {i + 1}: {r.RepsGBps[i]:F2} GB/s"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory read bandwidth: {r.MedianGBps:F2} GB/s (median of {reps}; {r.Threads} threads, {r.Bytes / 1048576} MiB buffer, {r.VectorBits}-bit loads)"));
        if (json)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"bandwidth_gb_s\": {r.MedianGBps:F3}, \"reps_gb_s\": [{string.Join(", ", r.RepsGBps.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}], \"buffer_bytes\": {r.Bytes}, \"threads\": {r.Threads}, \"vector_bits\": {r.VectorBits}}}"));
        }
        return 0;
    }

    /// <summary>
    /// <c>FLYWHEEL_PROFILE=pp</c> (or <c>tg</c>) times every kernel call of the measured prefills (or decode runs) and
    /// prints where the time went, by op and matmul weight type, and how much of it was outside the kernels.
    /// </summary>
    public const string ProfileVariable = "FLYWHEEL_PROFILE";

    internal static (double Pp, double Tg) Run(Model model, int pp, int tg, int reps, TextWriter log, string? profile = null)
    {
        var timed = model.Kernels as TimedKernels;
        var ppWall = TimeSpan.Zero;
        var tgWall = TimeSpan.Zero;
        var session = model.CreateSession(new SessionOptions { ContextLength = pp + tg + 16, BatchSize = Math.Max(1, pp) });
        var random = new Random(1234);
        var vocab = model.Config.VocabSize;
        var prompt = new int[pp];
        for (var i = 0; i < pp; i++) prompt[i] = random.Next(vocab);
        var first = random.Next(vocab);
        var ppRates = new List<double>();
        var tgRates = new List<double>();
        for (var r = 0; r <= reps; r++) // run 0 warms up
        {
            if (pp > 0)
            {
                session.Reset();
                if (timed is not null) timed.Paused = r == 0 || profile != "pp";
                var clock = Stopwatch.StartNew();
                session.Prefill(prompt);
                var rate = pp / clock.Elapsed.TotalSeconds;
                if (r > 0) ppRates.Add(rate);
                if (r > 0) ppWall += clock.Elapsed;
            }
            if (tg > 0)
            {
                session.Reset();
                if (timed is not null) timed.Paused = r == 0 || profile != "tg";
                var token = first;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < tg; i++)
                {
                    var logits = session.Decode(token);
                    token = (int)((uint)(token * 31 + i + (logits.Length > 0 ? 1 : 0)) % (uint)vocab);
                }
                var rate = tg / clock.Elapsed.TotalSeconds;
                if (r > 0) tgRates.Add(rate);
                if (r > 0) tgWall += clock.Elapsed;
            }
            if (r > 0)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rep {r}: pp {(ppRates.Count > 0 ? ppRates[^1] : 0):F2} tok/s, tg {(tgRates.Count > 0 ? tgRates[^1] : 0):F2} tok/s"));
            }
        }
        if (timed is not null)
        {
            timed.Paused = true;
            var wall = profile == "pp" ? ppWall : tgWall;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile of the measured {profile} runs ({wall.TotalMilliseconds:F0} ms):"));
            log.WriteLine(timed.Report(wall));
        }
        return (Median(ppRates), Median(tgRates));
    }

    /// <summary>
    /// Decode steps of <paramref name="sequences"/> sequences together, one row each per pass (a serving batch's
    /// decode step, logits of every row included), from empty caches; the median aggregate tok/s over reps after one
    /// warm-up. With <paramref name="profile"/> (<c>FLYWHEEL_PROFILE=tg</c>) the kernels of the last rep are profiled.
    /// </summary>
    internal static double RunBatch(Model model, int sequences, int tg, int reps, TextWriter log, bool profile = false)
    {
        var timed = model.Kernels as TimedKernels;
        var session = new BatchSession(model, sequences, tg + 16, sequences);
        var tokens = new int[sequences];
        var segments = new BatchSegment[sequences];
        var vocab = model.Config.VocabSize;
        var rates = new List<double>();
        for (var r = 0; r <= reps; r++)
        {
            for (var s = 0; s < sequences; s++)
            {
                session.Free(s);
                tokens[s] = (int)((uint)(s * 7919 + 13) % (uint)vocab);
            }
            if (timed is not null)
            {
                timed.Reset();
                timed.Paused = !profile || r < reps;
            }
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < tg; i++)
            {
                for (var s = 0; s < sequences; s++) segments[s] = new BatchSegment(s, s, 1, i, 0);
                var logits = session.Forward(tokens, segments);
                for (var s = 0; s < sequences; s++) tokens[s] = (int)((uint)(tokens[s] * 31 + i + (logits.Length > 0 ? 1 : 0)) % (uint)vocab);
            }
            var rate = sequences * tg / clock.Elapsed.TotalSeconds;
            if (timed is not null && !timed.Paused)
            {
                timed.Paused = true;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile of the last batch {sequences} run ({clock.Elapsed.TotalMilliseconds:F0} ms):"));
                log.WriteLine(timed.Report(clock.Elapsed));
            }
            if (r > 0)
            {
                rates.Add(rate);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rep {r}: batch {sequences} {rate:F2} tok/s"));
            }
        }
        return Median(rates);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        values.Sort();
        var m = values.Count / 2;
        return values.Count % 2 == 1 ? values[m] : (values[m - 1] + values[m]) / 2;
    }

    internal static long PeakRssBytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return Environment.WorkingSet;
        foreach (var line in File.ReadLines(status))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        return Environment.WorkingSet;
    }
}
