using System.Text;
using Flywheel.Formats.Gguf;

namespace Flywheel.Models.Tests.Fixtures;

/// <summary>
/// Just enough SentencePiece-BPE to turn a short ASCII prompt into ids for the stories260K test without depending on
/// the tokenizer project: spaces become ▁ with a leading ▁ added, then the adjacent pair whose merged piece has the
/// highest score is merged until none is in the vocabulary (llama.cpp's llm_tokenizer_spm). Decoding maps ▁ back
/// to spaces and &lt;0xNN&gt; pieces to bytes.
/// </summary>
internal sealed class MiniSentencePiece
{
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public MiniSentencePiece(GgufFile file)
    {
        _pieces = (string[])file.TryGetArray(GgufKeys.TokenizerTokens)!.Items;
        _scores = (float[])file.TryGetArray(GgufKeys.TokenizerScores)!.Items;
        for (var i = 0; i < _pieces.Length; i++) _ids.TryAdd(_pieces[i], i);
    }

    public int[] Encode(string text)
    {
        var symbols = ("▁" + text.Replace(' ', '▁')).Select(c => c.ToString()).ToList();
        while (true)
        {
            var best = -1;
            var bestScore = float.NegativeInfinity;
            for (var i = 0; i + 1 < symbols.Count; i++)
            {
                if (_ids.TryGetValue(symbols[i] + symbols[i + 1], out var id) && _scores[id] > bestScore)
                {
                    best = i;
                    bestScore = _scores[id];
                }
            }
            if (best < 0) break;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
        return symbols.Select(s => _ids.TryGetValue(s, out var id) ? id : throw new InvalidOperationException($"'{s}' needs byte fallback")).ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var piece = _pieces[id];
            if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece.EndsWith('>'))
            {
                bytes.Add(Convert.ToByte(piece[3..5], 16));
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(piece.Replace('▁', ' ')));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
