namespace Flywheel.Engine.Constraints;

/// <summary>
/// An object being read. Declared properties seen so far are bits of <see cref="Seen"/>; undeclared ones (when
/// additionalProperties allows them) are kept by name, so no key appears twice. <c>}</c> is accepted only once every
/// required property is present, and <c>,</c> only while another key is possible.
/// </summary>
internal sealed class ObjectFrame(SchemaNode schema, ObjectFrame.Phase phase, ulong seen, ObjectFrame.KeyList? extra, int whitespace, SchemaNode? pending)
    : MatchFrame, IValueParent
{
    public enum Phase { Open, Key, Colon, Value, AfterValue }

    /// <summary>Undeclared keys seen, as JSON string bytes (a persistent list).</summary>
    public sealed record KeyList(byte[] Key, KeyList? Next)
    {
        public bool Contains(ReadOnlySpan<byte> key)
        {
            for (var k = this; k is not null; k = k.Next)
            {
                if (k.Key.AsSpan().SequenceEqual(key)) return true;
            }
            return false;
        }
    }

    public static ObjectFrame Open(SchemaNode schema) => new(schema, Phase.Open, 0, null, 0, null);

    public SchemaNode Schema => schema;
    public ulong Seen => seen;
    public KeyList? Extra => extra;

    public override int RemainingBytes => phase switch
    {
        Phase.Open => MinimalOutput.ObjectRest(schema, seen, first: true),
        Phase.Key => MinimalOutput.ObjectAfterComma(schema, seen, extra),
        Phase.Colon => MinimalOutput.Clamp(1L + MinimalOutput.Value(pending!) + MinimalOutput.ObjectRest(schema, seen, first: false)),
        _ => MinimalOutput.ObjectRest(schema, seen, first: false),
    };

    public MatchFrame AfterChild() => new ObjectFrame(schema, Phase.AfterValue, seen, extra, 0, null);

    /// <summary>The key just read names <paramref name="value"/>'s schema; a colon comes next.</summary>
    public ObjectFrame WithKey(ulong nowSeen, KeyList? nowExtra, SchemaNode value) => new(schema, Phase.Colon, nowSeen, nowExtra, 0, value);

    private bool RequiredPresent => (schema.Required & ~seen) == 0;

    /// <summary>Another key may follow: an unseen declared property, or any name when additional properties are allowed.</summary>
    private bool MoreKeys => schema.Additional is not null || schema.Properties.Count > System.Numerics.BitOperations.PopCount(seen);

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        if (IsWhitespace(b) && phase != Phase.Value)
        {
            if (whitespace < MaxWhitespace) output.Add(self.Rest!.Push(new ObjectFrame(schema, phase, seen, extra, whitespace + 1, pending)));
            return;
        }
        switch (phase)
        {
            case Phase.Open or Phase.Key:
                if (b == (byte)'"' && MoreKeys) output.Add(self.Push(new KeyFrame([], default)));
                else if (b == (byte)'}' && phase == Phase.Open && RequiredPresent) output.Add(self.Pop());
                break;
            case Phase.Colon when b == (byte)':':
                output.Add(self.Rest!.Push(new ObjectFrame(schema, Phase.Value, seen, extra, 0, null)).Push(new ValueFrame(pending!, 0)));
                break;
            case Phase.AfterValue:
                if (b == (byte)',' && MoreKeys) output.Add(self.Rest!.Push(new ObjectFrame(schema, Phase.Key, seen, extra, 0, null)));
                else if (b == (byte)'}' && RequiredPresent) output.Add(self.Pop());
                break;
        }
    }
}
