using Flywheel.Formats.Gguf;

namespace Flywheel.Server.Tests;

/// <summary>
/// A copy of stories260K with a chat template of the test's choosing, written to a temporary file, so the server's
/// template-driven behaviour (think blocks opened by the prompt, tool-call formats) runs on a real model.
/// </summary>
internal sealed class TemplatedModel : IDisposable
{
    public TemplatedModel(string template)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"flywheel-templated-{Guid.NewGuid():N}.gguf");
        using var source = GgufFile.Open(TestServer.Stories);
        var writer = new GgufWriter().CopyMetadata(source).Set(GgufKeys.ChatTemplate, template);
        foreach (var t in source.Tensors)
        {
            writer.AddTensor(t.Name, t.Type, t.Shape, source.GetTensor(t.Name).Bytes.ToArray());
        }
        writer.Save(Path);
    }

    public string Path { get; }

    public void Dispose() => File.Delete(Path);
}
