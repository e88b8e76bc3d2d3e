using Flywheel.Kernels.Cpu;
using Flywheel.Models;
using Flywheel.Models.Tests.Fixtures;
using Xunit.Abstractions;

namespace Flywheel.Kernels.Tests.Cpu;

/// <summary>The CPU set end to end on the tiny models: llama.cpp's greedy ids, and a decode step that allocates nothing.</summary>
public sealed class CpuKernelsModelTests(ITestOutputHelper output)
{
    /// <summary>Below this top-two gap a faithful engine may pick the other token (as the Models parity tests).</summary>
    private const float TieGap = 0.05f;

    private static readonly Lazy<CpuKernels> Kernels = new(() => new CpuKernels(2));

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in LlamaCppReference.Files)
        {
            for (var p = 0; p < LlamaCppReference.Get(file).Prompts.Length; p++) data.Add(file, p);
        }
        return data;
    }

    [AcceleratedTheory]
    [MemberData(nameof(Cases))]
    public void Greedy_ids_match_llama_cpp(string file, int promptIndex)
    {
        var prompt = LlamaCppReference.Get(file).Prompts[promptIndex];
        using var model = Model.Load(LlamaCppReference.ModelPath(file), Kernels.Value);
        var session = model.CreateSession(new SessionOptions { ContextLength = 128 });
        var logits = session.Prefill(prompt.PromptIds);
        var matched = 0;
        for (var step = 0; step < prompt.Ids.Length; step++)
        {
            var id = LogitChecks.ArgMax(logits);
            if (id != prompt.Ids[step])
            {
                var gap = LogitChecks.TopTwoGap(logits);
                output.WriteLine($"{file} '{prompt.Text}': diverged at step {step}, top-two gap {gap:F4}");
                Assert.True(gap < TieGap, $"step {step}: we chose {id}, llama.cpp {prompt.Ids[step]}, and our top-two gap {gap} is no near-tie");
                break;
            }
            matched++;
            logits = session.Decode(id);
        }
        output.WriteLine($"{file} '{prompt.Text}': {matched}/{prompt.Ids.Length} greedy ids identical with {Kernels.Value.Name}");
    }

    [AcceleratedTheory]
    [MemberData(nameof(Files))]
    public void Decode_allocates_nothing_after_warm_up(string file)
    {
        using var model = Model.Load(LlamaCppReference.ModelPath(file), Kernels.Value);
        var session = model.CreateSession(new SessionOptions { ContextLength = 128 });
        session.Prefill([1, 2, 3]);
        for (var i = 0; i < 8; i++) session.Decode(5 + i); // warm-up: JIT, pool threads, lazy tables
        // Steady state must allocate nothing: some run of 16 consecutive steps allocates 0 bytes. A step that
        // allocates every time never gets there; a one-off runtime event on a loaded machine (a method's tier-up,
        // a lock's first contention) is allowed to cost one step, since CI machines are shared.
        const int Needed = 16, MaxSteps = 64;
        var run = 0;
        var steps = 0;
        var allocatingSteps = new List<long>();
        for (; steps < MaxSteps && run < Needed; steps++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            session.Decode(20 + steps % 64);
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            if (bytes == 0) { run++; continue; }
            run = 0;
            allocatingSteps.Add(bytes);
        }
        output.WriteLine($"{file}: {steps} steps measured, allocating ones: [{string.Join(", ", allocatingSteps)}] bytes");
        Assert.True(run == Needed, $"no {Needed} consecutive decode steps without allocation in {MaxSteps}; allocating steps: {string.Join(", ", allocatingSteps)} bytes");
        Assert.True(allocatingSteps.Count <= 2, $"{allocatingSteps.Count} decode steps allocated after warm-up: {string.Join(", ", allocatingSteps)} bytes");
    }

    public static TheoryData<string> Files() => new(LlamaCppReference.Files);
}
