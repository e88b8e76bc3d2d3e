using Flywheel.Formats.Gguf;
using Flywheel.Testing;
using Xunit.Abstractions;

namespace Flywheel.Formats.Tests.Gguf;

/// <summary>
/// Mutates real GGUF files (bit flips, byte overwrites with boundary values, truncation, splices) with a fixed
/// seed and a bounded number of iterations. Every mutant must either parse, with every tensor view inside the
/// file, or fail with <see cref="ModelFormatException"/>. Anything else is a crash.
/// </summary>
public class GgufFuzzTests(ITestOutputHelper output)
{
    public const int Seed = 20261123;
    public const int IterationsPerFile = 1500;

    public static TheoryData<string> Inputs() => new()
    {
        "models/stories260K/stories260K.gguf",
        "models/tiny/tiny-qwen2-q4_k_m.gguf (shrunk)",
        "testdata/vocab/ggml-vocab-llama-spm.gguf",
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Mutated_files_never_crash_the_reader(string relative)
    {
        var original = relative.EndsWith(" (shrunk)", StringComparison.Ordinal)
            ? Shrink(TestPaths.SharedFile(relative[..^" (shrunk)".Length].Split('/')))
            : File.ReadAllBytes(TestPaths.SharedFile(relative.Split('/')));
        // Mutations concentrate on the header, metadata and tensor table, where the parser makes decisions;
        // flips deep inside tensor data cannot change control flow.
        var headerEnd = HeaderLength(original);
        var random = new Random(Seed ^ relative.GetHashCode(StringComparison.Ordinal) & 0x7fffffff);
        int parsed = 0, rejected = 0;
        var crashes = new List<string>();
        for (var i = 0; i < IterationsPerFile; i++)
        {
            var mutant = Mutate(original, headerEnd, random);
            try
            {
                using var file = GgufFile.Read(mutant, "mutant.gguf");
                foreach (var t in file.Tensors)
                {
                    var view = file.GetTensor(t.Name);
                    Assert.True(file.DataOffset + t.Offset + view.ByteLength <= mutant.Length);
                }
                parsed++;
            }
            catch (ModelFormatException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                crashes.Add($"iteration {i}: {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{relative}: {IterationsPerFile} iterations, {parsed} parsed, {rejected} rejected, {crashes.Count} crashes");
        Assert.Empty(crashes);
    }

    /// <summary>
    /// The same metadata (arrays cut to 64 items) and the first tensors of a real quantized model: its header has
    /// every tensor type and key shape of the original, but parses in microseconds instead of re-reading a
    /// 50k-token vocabulary on each of thousands of iterations.
    /// </summary>
    private static byte[] Shrink(string path)
    {
        using var file = GgufFile.Open(path);
        var w = new GgufWriter { Version = file.Version };
        foreach (var key in file.MetadataKeys)
        {
            var value = file.Metadata[key];
            if (value.Value is GgufArray { Length: > 64 } a)
            {
                var items = Array.CreateInstance(a.Items.GetType().GetElementType()!, 64);
                Array.Copy(a.Items, items, 64);
                value = GgufValue.Array(a.ElementType, items);
            }
            w.Set(key, value);
        }
        foreach (var t in file.Tensors.Where(t => t.ByteSize < 200_000).Take(8))
        {
            w.AddTensor(t.Name, t.Type, t.Shape, file.GetTensor(t.Name).Bytes.ToArray());
        }
        return w.ToArray();
    }

    private static int HeaderLength(byte[] bytes)
    {
        using var file = GgufFile.Read(bytes);
        return (int)Math.Min(file.DataOffset, bytes.Length);
    }

    private static readonly ulong[] Boundary = [0, 1, 2, 31, 32, 255, 0x7fffffff, 0xffffffff, 0x7fffffffffffffff, ulong.MaxValue];

    private static byte[] Mutate(byte[] original, int headerEnd, Random random)
    {
        var bytes = (byte[])original.Clone();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            var at = random.Next(0, Math.Max(1, headerEnd));
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                {
                    var value = Boundary[random.Next(Boundary.Length)];
                    var width = random.Next(2) == 0 ? 4 : 8;
                    for (var k = 0; k < width && at + k < bytes.Length; k++) bytes[at + k] = (byte)(value >> (8 * k));
                    break;
                }
                case 3:
                    return bytes[..random.Next(0, bytes.Length)];
                default:
                {
                    // Splice: copy a run of bytes from elsewhere in the header over this spot.
                    var from = random.Next(0, Math.Max(1, headerEnd));
                    var length = Math.Min(random.Next(1, 64), Math.Min(bytes.Length - at, bytes.Length - from));
                    Array.Copy(original, from, bytes, at, length);
                    break;
                }
            }
        }
        return bytes;
    }
}
