using Flywheel.Models.KvCache;
using Flywheel.Models.Layers;
using Flywheel.Models.Tests.Fixtures;
using Flywheel.Testing;

namespace Flywheel.Models.Tests.KvCache;

/// <summary>
/// The paged KV cache: blocks are taken as positions fill, given back whole, shared by prefix hash with reference
/// counts, copied before a shared block is written, and evicted oldest first only when the pool needs them.
/// </summary>
public sealed class KeyValueCacheTests
{
    private static readonly Lazy<Model> Stories = new(() => Model.Load(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf")));

    private static KeyValueCache Cache(int context = 64, int sequences = 3, long? capacity = null, int blockSize = 4) =>
        new(Stories.Value.Config, context, sequences, capacity, blockSize);

    private static int[] Tokens(int n, int salt = 0) => Enumerable.Range(0, n).Select(i => 1 + (i * 31 + salt) % 500).ToArray();

    [Fact]
    public void Blocks_are_taken_as_positions_fill_and_given_back_whole()
    {
        var cache = Cache(capacity: 40); // 10 blocks of 4
        Assert.Equal(10, cache.BlockCount);
        cache.PrepareWrite(0, 0, 9);
        cache.SetLength(0, 9);
        Assert.Equal(3, cache.BlocksHeld(0));
        Assert.Equal(7, cache.FreeBlocks);
        cache.Truncate(0, 5);
        Assert.Equal(2, cache.BlocksHeld(0));
        cache.Truncate(0, 0);
        Assert.Equal(10, cache.FreeBlocks);
        Assert.Equal(0, cache.UsedBlocks);
    }

    [Fact]
    public void A_full_pool_says_so_instead_of_overwriting_another_sequence()
    {
        var cache = Cache(capacity: 16); // 4 blocks
        cache.PrepareWrite(0, 0, 12);
        cache.SetLength(0, 12);
        var e = Assert.Throws<InvalidOperationException>(() => cache.PrepareWrite(1, 0, 8));
        Assert.Contains("KV cache is full", e.Message);
        Assert.Throws<InvalidOperationException>(() => cache.PrepareWrite(2, 0, 65)); // past the context
    }

    [Fact]
    public void A_committed_prefix_is_attached_by_the_next_sequence_with_the_same_beginning()
    {
        var cache = Cache();
        var tokens = Tokens(14);
        cache.PrepareWrite(0, 0, 14);
        cache.SetLength(0, 14);
        cache.Commit(0, tokens);
        var rowsOfFirst = Enumerable.Range(0, 12).Select(p => cache.Row(0, p)).ToArray();

        // Same first 12 tokens (3 full blocks), then different: 3 blocks attached, shared, not copied.
        int[] other = [.. tokens[..12], 999, 998, 997];
        Assert.Equal(12, cache.AttachPrefix(1, other));
        Assert.Equal(rowsOfFirst, Enumerable.Range(0, 12).Select(p => cache.Row(1, p)));
        Assert.Equal(4, cache.UsedBlocks); // 4 blocks of sequence 0, of which 3 shared
        Assert.Equal(12, cache.ReusedPositions);

        // A prompt that differs inside the second block attaches only the first.
        int[] third = [.. tokens[..5], 777, .. tokens[6..]];
        Assert.Equal(4, cache.AttachPrefix(2, third));
    }

    [Fact]
    public void The_last_prompt_token_is_always_left_to_compute()
    {
        var cache = Cache();
        var tokens = Tokens(8);
        cache.PrepareWrite(0, 0, 8);
        cache.SetLength(0, 8);
        cache.Commit(0, tokens);
        Assert.Equal(4, cache.AttachPrefix(1, tokens)); // 2 full blocks cached, but the 8th token's logits are needed
    }

    [Fact]
    public void Writing_into_a_shared_block_copies_it_first()
    {
        var cache = Cache();
        var tokens = Tokens(9);
        cache.PrepareWrite(0, 0, 9);
        cache.SetLength(0, 9);
        cache.Commit(0, tokens);
        Assert.Equal(8, cache.AttachPrefix(1, tokens));
        var shared = cache.Row(1, 4);
        Assert.Equal(shared, cache.Row(0, 4));

        // Sequence 1 rewrites position 6 (inside the shared second block): it gets its own copy.
        cache.Truncate(1, 6);
        cache.PrepareWrite(1, 6, 7);
        Assert.NotEqual(cache.Row(0, 4), cache.Row(1, 4));
        Assert.Equal(cache.Row(0, 0), cache.Row(1, 0)); // the first block is still shared
        var layer0 = cache.Keys(0);
        var width = cache.KvWidth;
        Assert.True(layer0.Slice(cache.Row(0, 4) * width, 2 * width).SequenceEqual(layer0.Slice(cache.Row(1, 4) * width, 2 * width)));
    }

    [Fact]
    public void Released_prefixes_stay_reusable_until_the_pool_needs_their_blocks()
    {
        var cache = Cache(capacity: 16); // 4 blocks
        var a = Tokens(9, 1);
        cache.PrepareWrite(0, 0, 9);
        cache.SetLength(0, 9);
        cache.Commit(0, a);
        cache.Truncate(0, 0);
        Assert.Equal(0, cache.UsedBlocks);
        Assert.Equal(2, cache.ReusableBlocks);       // the two full blocks, registered
        Assert.Equal(8, cache.AttachPrefix(1, a));    // still there
        cache.Truncate(1, 0);

        // A different sequence needing all 4 blocks evicts them (oldest first), and the prefix is gone.
        cache.PrepareWrite(2, 0, 16);
        cache.SetLength(2, 16);
        Assert.Equal(0, cache.ReusableBlocks);
        cache.Truncate(2, 0);
        Assert.Equal(0, cache.AttachPrefix(0, a));
    }

    [Fact]
    public void Prefix_keys_name_the_whole_prefix_not_just_the_block()
    {
        int[] block = [5, 6, 7, 8];
        var afterA = KeyValueCache.Chain(KeyValueCache.Chain(UInt128.Zero, [1, 2, 3, 4]), block);
        var afterB = KeyValueCache.Chain(KeyValueCache.Chain(UInt128.Zero, [1, 2, 3, 9]), block);
        Assert.NotEqual(afterA, afterB);
        Assert.NotEqual(KeyValueCache.Chain(UInt128.Zero, [0]), KeyValueCache.Chain(UInt128.Zero, [0, 0]));
    }

    [Fact]
    public void A_sequence_that_attached_a_prefix_decodes_exactly_like_one_that_computed_it()
    {
        var model = Stories.Value;
        var tokenizer = new MiniSentencePiece(model.GgufFile!);
        var bos = model.Config.BosTokenId!.Value;
        int[] prompt = [bos, .. tokenizer.Encode("Once upon a time, there was a little girl named Lily. She liked to play")];
        var batch = new BatchSession(model, maxSequences: 2, contextLength: 128, maxTokens: 128);
        var vocab = model.Config.VocabSize;

        var first = batch.Forward(prompt, [new BatchSegment(0, 0, prompt.Length, 0, prompt.Length - 1)]).ToArray();
        batch.Cache.Commit(0, prompt);
        var attached = batch.Cache.AttachPrefix(1, prompt);
        Assert.True(attached >= 16, $"attached {attached}");
        var second = batch.Forward(prompt.AsSpan(attached), [new BatchSegment(1, 0, prompt.Length - attached, attached, prompt.Length - attached - 1)]).ToArray();
        Assert.Equal(first, second);
        Assert.Equal(vocab, second.Length);
    }
}
