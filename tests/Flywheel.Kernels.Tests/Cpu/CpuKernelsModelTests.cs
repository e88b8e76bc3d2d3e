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
        long worst = 0;
        for (var i = 0; i < 16; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            session.Decode(20 + i);
            worst = Math.Max(worst, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        output.WriteLine($"{file}: most bytes allocated by one decode step = {worst}");
        Assert.Equal(0, worst);
    }

    public static TheoryData<string> Files() => new(LlamaCppReference.Files);
}
