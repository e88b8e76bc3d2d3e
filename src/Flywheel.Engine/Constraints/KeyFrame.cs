namespace Flywheel.Engine.Constraints;

/// <summary>
/// An object key being read, after its opening quote; the object is the frame below. With additionalProperties
/// false only prefixes of unseen declared names are accepted. Otherwise any name goes, without backslash escapes (so
/// one name has one spelling and duplicates are caught), except names already used.
/// </summary>
internal sealed class KeyFrame(byte[] soFar, JsonStringLexer lexer) : MatchFrame
{
    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        var owner = (ObjectFrame)self.Rest!.Top;
        var schema = owner.Schema;
        // A declared name may hold an escaped quote; with additionalProperties false the quote closes the key only when
        // the bytes so far are a whole name, and otherwise may continue one (the prefix check below).
        var closes = b == (byte)'"' && (schema.Additional is null ? schema.Properties.Exists(p => p.Key.AsSpan().SequenceEqual(soFar)) : lexer.AtBoundary);
        if (closes)
        {
            var index = schema.Properties.FindIndex(p => p.Key.AsSpan().SequenceEqual(soFar));
            if (index >= 0)
            {
                var bit = index < 64 ? 1UL << index : 0;
                if ((owner.Seen & bit) != 0) return;
                output.Add(self.Rest.Rest!.Push(owner.WithKey(owner.Seen | bit, owner.Extra, schema.Properties[index].Schema)));
            }
            else if (schema.Additional is { } additional && !(owner.Extra?.Contains(soFar) ?? false))
            {
                output.Add(self.Rest.Rest!.Push(owner.WithKey(owner.Seen, new ObjectFrame.KeyList(soFar, owner.Extra), additional)));
            }
            if (schema.Additional is not null) return;
        }
        var next = new byte[soFar.Length + 1];
        soFar.CopyTo(next, 0);
        next[^1] = b;
        if (schema.Additional is null)
        {
            // Declared names are compact JSON already; a prefix of an unseen one is the only way on.
            for (var i = 0; i < schema.Properties.Count; i++)
            {
                if (i < 64 && (owner.Seen & (1UL << i)) != 0) continue;
                if (schema.Properties[i].Key.AsSpan().StartsWith(next))
                {
                    output.Add(self.Rest.Push(new KeyFrame(next, lexer)));
                    return;
                }
            }
            return;
        }
        if (lexer.Next(b, int.MaxValue, escapes: false, out var nextLexer) == JsonStringLexer.Step.Continue)
        {
            output.Add(self.Rest.Push(new KeyFrame(next, nextLexer)));
        }
    }
}
