using Flywheel.Models.Layers;
using Flywheel.Models.Tests.Fixtures;
using Flywheel.Testing;

namespace Flywheel.Models.Tests;

/// <summary>Rows of several sequences in one pass give each sequence the logits it gets alone; embeddings.</summary>
public sealed class BatchSessionTests
{
    private static string ModelPath => TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        var best = 0;
        for (var i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    [Fact]
    public void Batched_greedy_decoding_matches_one_sequence_at_a_time()
    {
        using var model = Model.Load(ModelPath);
        var tokenizer = new MiniSentencePiece(model.GgufFile!);
        var bos = model.Config.BosTokenId!.Value;
        string[] prompts = ["Once upon a time", "The little dog", "Lily and Tom went to the park and"];
        var prompt = prompts.Select(p => (int[])[bos, .. tokenizer.Encode(p)]).ToArray();
        const int steps = 24;

        // Alone: one session per prompt, greedy.
        var alone = new List<int>[prompts.Length];
        var aloneLogits = new List<float[]>[prompts.Length];
        for (var s = 0; s < prompts.Length; s++)
        {
            var session = model.CreateSession(new SessionOptions { ContextLength = 128 });
            alone[s] = [];
            aloneLogits[s] = [];
            var logits = session.Prefill(prompt[s]);
            for (var i = 0; i < steps; i++)
            {
                aloneLogits[s].Add(logits.ToArray());
                var id = ArgMax(logits);
                alone[s].Add(id);
                logits = session.Decode(id);
            }
        }

        // Together: every prompt prefilled in one pass, then every step decodes all sequences in one pass.
        var batch = new BatchSession(model, maxSequences: 3, contextLength: 128, maxTokens: 64);
        var vocab = model.Config.VocabSize;
        var tokens = prompt.SelectMany(p => p).ToArray();
        var segments = new BatchSegment[3];
        for (int s = 0, row = 0; s < 3; row += prompt[s].Length, s++) segments[s] = new BatchSegment(s, row, prompt[s].Length, 0, prompt[s].Length - 1);
        var together = new[] { new List<int>(), new List<int>(), new List<int>() };
        var rows = batch.Forward(tokens, segments).ToArray();
        for (var i = 0; i < steps; i++)
        {
            var next = new int[3];
            for (var s = 0; s < 3; s++)
            {
                var row = rows.AsSpan(s * vocab, vocab);
                var expected = aloneLogits[s][i];
                // A matmul over several rows may sum in another order than over one row (the kernels tile rows), so
                // logits agree to a small tolerance (exactly with FLYWHEEL_KERNELS=reference); the greedy ids must agree exactly.
                for (var v = 0; v < vocab; v++) Assert.True(Math.Abs(row[v] - expected[v]) < 1e-2f, $"sequence {s} step {i} logit {v}: {row[v]} vs {expected[v]}");
                next[s] = ArgMax(row);
                together[s].Add(next[s]);
            }
            for (var s = 0; s < 3; s++) segments[s] = new BatchSegment(s, s, 1, batch.Cache.Length(s), 0);
            rows = batch.Forward(next, segments).ToArray();
        }
        for (var s = 0; s < 3; s++) Assert.Equal(alone[s], together[s]);
    }

    /// <summary>
    /// A prompt long enough for the tiled attention sits between two decode rows: the decode rows on either side attend
    /// in separate batched calls, the prompt on its own, and each sequence still gets the logits it gets alone.
    /// </summary>
    [Fact]
    public void A_long_prompt_between_decode_rows_leaves_each_sequence_its_own_logits()
    {
        using var model = Model.Load(ModelPath);
        var vocab = model.Config.VocabSize;
        int[][] prompts = [[1, 5, 9, 13], [.. Enumerable.Range(0, 70).Select(i => 1 + i * 7 % (vocab - 1))], [1, 20, 30]];
        int[] next = [42, 0, 77]; // the decode token of sequences 0 and 2

        var expected = new float[3][];
        for (var s = 0; s < 3; s++)
        {
            var session = model.CreateSession(new SessionOptions { ContextLength = 128, BatchSize = 128 });
            var logits = session.Prefill(prompts[s]);
            if (s != 1) logits = session.Decode(next[s]);
            expected[s] = logits.ToArray();
        }

        var batch = new BatchSession(model, maxSequences: 3, contextLength: 128, maxTokens: 128);
        batch.Forward([.. prompts[0], .. prompts[2]], [new BatchSegment(0, 0, 4, 0, 3), new BatchSegment(2, 4, 3, 0, 2)]);
        var rows = batch.Forward([next[0], .. prompts[1], next[2]],
            [new BatchSegment(0, 0, 1, 4, 0), new BatchSegment(1, 1, 70, 0, 69), new BatchSegment(2, 71, 1, 3, 0)]).ToArray();
        for (var s = 0; s < 3; s++)
        {
            var row = rows.AsSpan(s * vocab, vocab);
            for (var v = 0; v < vocab; v++) Assert.True(Math.Abs(row[v] - expected[s][v]) < 1e-2f, $"sequence {s} logit {v}: {row[v]} vs {expected[s][v]}");
            Assert.Equal(ArgMax(expected[s]), ArgMax(row));
        }
    }

    [Fact]
    public void Embeddings_are_unit_length_and_leave_the_session_empty()
    {
        using var model = Model.Load(ModelPath);
        var tokenizer = new MiniSentencePiece(model.GgufFile!);
        var session = model.CreateSession(new SessionOptions { ContextLength = 64, BatchSize = 8 });
        int[] ids = [model.Config.BosTokenId!.Value, .. tokenizer.Encode("Lily went to the park with her mom.")];
        var a = new float[model.Config.EmbeddingLength];
        var b = new float[model.Config.EmbeddingLength];
        session.Prefill([1, 2, 3]);
        session.Embed(ids, a); // chunked: the batch size is 8
        Assert.Equal(0, session.Position);
        Assert.Equal(1.0, Math.Sqrt(a.Sum(x => (double)x * x)), 5);
        var whole = model.CreateSession(new SessionOptions { ContextLength = 64 });
        whole.Embed(ids, b);
        for (var i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 4);
        Assert.Throws<InvalidOperationException>(() => session.Embed(new int[65], a));
    }
}
