using Flywheel.Formats.Gguf;
using Flywheel.Tensors;
using Flywheel.Testing;

namespace Flywheel.Formats.Tests.Gguf;

public class GgufFileTests
{
    public static TheoryData<string> SharedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in TestPaths.AllSharedGguf()) data.Add(Path.GetRelativePath(TestPaths.Shared, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(SharedFiles))]
    public void Opens_every_shared_file(string relative)
    {
        using var file = GgufFile.Open(Path.Combine(TestPaths.Shared, relative));
        Assert.Contains(file.Version, new uint[] { 2, 3 });
        Assert.NotNull(file.Architecture);
        Assert.NotNull(file.TryGetArray(GgufKeys.TokenizerTokens));
        foreach (var t in file.Tensors)
        {
            var view = file.GetTensor(t.Name);
            Assert.Equal(t.ByteSize, view.ByteLength);
            Assert.True(file.DataOffset + t.Offset + t.ByteSize <= file.FileLength);
        }
    }

    [Fact]
    public void Reads_stories260K_hyperparameters_and_tensors()
    {
        using var file = GgufFile.Open(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        Assert.Equal("llama", file.Architecture);
        Assert.Equal(64, file.TryGetInt64("llama.embedding_length"));
        Assert.Equal(5, file.TryGetInt64("llama.block_count"));
        Assert.Equal(512, file.TryGetArray(GgufKeys.TokenizerTokens)!.Length);
        var embd = file.FindTensor("token_embd.weight")!;
        Assert.Equal(GgmlType.F32, embd.Type);
        Assert.Equal(new long[] { 64, 512 }, embd.Shape);
    }

    [Fact]
    public void Tensor_views_are_zero_copy_into_the_mapping()
    {
        using var file = GgufFile.Open(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        var a = file.GetTensor("token_embd.weight");
        var b = file.GetTensor("token_embd.weight");
        unsafe
        {
            Assert.True(a.Data == b.Data);
        }
        Assert.Equal(64 * 4, a.Row(3).Length);
    }

    [Fact]
    public void Released_pages_read_back_the_same_bytes()
    {
        // Dropping a mapping's pages must never zero them: reads fault the file's bytes back in.
        var path = TestPaths.SharedFile("models", "stories260K", "stories260K.gguf");
        using var file = GgufFile.Open(path);
        foreach (var info in file.Tensors)
        {
            var view = file.GetTensor(info.Name);
            var before = view.Bytes.ToArray();
            unsafe
            {
                file.ReleasePages(view.Data, view.ByteLength);
            }
            Assert.True(before.AsSpan().SequenceEqual(view.Bytes), $"{info.Name} changed after its pages were released");
        }
        var all = File.ReadAllBytes(path);
        var embd = file.GetTensor("token_embd.weight");
        Assert.True(all.AsSpan(checked((int)(file.DataOffset + file.FindTensor("token_embd.weight")!.Offset)), checked((int)embd.ByteLength)).SequenceEqual(embd.Bytes));
    }

    [Fact]
    public void Releasing_pages_outside_the_file_is_refused()
    {
        using var file = GgufFile.Open(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        var view = file.GetTensor("token_embd.weight");
        unsafe
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => file.ReleasePages(view.Data, file.FileLength));
        }
    }

    [Fact]
    public void Releasing_pages_of_an_image_in_memory_leaves_it_alone()
    {
        var bytes = File.ReadAllBytes(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        using var file = GgufFile.Read(bytes);
        var view = file.GetTensor("token_embd.weight");
        var before = view.Bytes.ToArray();
        unsafe
        {
            file.ReleasePages(view.Data, view.ByteLength);
        }
        Assert.True(before.AsSpan().SequenceEqual(view.Bytes));
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        using var file = GgufFile.Open(TestPaths.SharedFile("models", "stories260K", "stories260K.gguf"));
        var ex = Assert.Throws<ModelFormatException>(() => file.GetTensor("blk.99.attn_q.weight"));
        Assert.Contains("blk.99.attn_q.weight", ex.Message);
    }
}
