namespace Flywheel.Engine.Constraints;

/// <summary>
/// An object key being read, after its opening quote; the object is the frame below. With additionalProperties
/// false only prefixes of unseen declared names are accepted. Otherwise any name goes, without backslash escapes (so
/// one name has one spelling and duplicates are caught), except names already used.
/// </summary>
internal sealed class KeyFrame(byte[] soFar, JsonStringLexer lexer) : MatchFrame
{
    /// <summary>A key is completed with the rest of its object (<see cref="RemainingWith"/>).</summary>
    public override int RemainingBytes => throw new InvalidOperationException("a key's remaining bytes depend on its object");

    /// <summary>
    /// Bytes that finish this key, its value and the rest of <paramref name="owner"/>: the cheapest unseen declared
    /// name this key can still become, or (when undeclared names are allowed) closing it now, one character later
    /// when the name is taken already.
    /// </summary>
    public int RemainingWith(ObjectFrame owner)
    {
        var schema = owner.Schema;
        long best = MinimalOutput.Unbounded;
        for (var i = 0; i < schema.Properties.Count && i < 64; i++)
        {
            var p = schema.Properties[i];
            if ((owner.Seen & (1UL << i)) != 0 || !p.Key.AsSpan().StartsWith(soFar)) continue;
            if (schema.Additional is not null && p.Key.AsSpan().IndexOf((byte)'\\') >= 0) continue; // escapes are refused in open keys
            best = Math.Min(best, p.Key.Length - soFar.Length + 2L + MinimalOutput.Value(p.Schema) + MinimalOutput.ObjectRest(schema, owner.Seen | (1UL << i), first: false));
        }
        if (schema.Additional is { } additional)
        {
            var taken = lexer.Utf8Left == 0 && (schema.Properties.Exists(p => p.Key.AsSpan().SequenceEqual(soFar)) || (owner.Extra?.Contains(soFar) ?? false));
            var extra = lexer.Utf8Left + (taken ? 1 : 0);
            best = Math.Min(best, extra + 2L + MinimalOutput.Value(additional) + MinimalOutput.ObjectRest(schema, owner.Seen, first: false));
        }
        return MinimalOutput.Clamp(best);
    }

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
