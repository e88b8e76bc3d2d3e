namespace Flywheel.Engine.Constraints;

/// <summary>
/// How many bytes still complete a document: the shortest value of each schema, and for a parse position the bytes
/// that close what is open (strings, keys, numbers, literals, arrays, objects with their missing required
/// properties, the fixed suffix). Every count is the length of one byte string the matcher accepts, and the first
/// byte of that string leaves a position whose count is one less, so a generation that keeps
/// <c>count ≤ tokens left</c> can always finish, one byte per token, within its limit.
/// </summary>
internal static class MinimalOutput
{
    /// <summary>Stands for "no finite completion": large, yet far from overflowing when a few are added.</summary>
    public const int Unbounded = int.MaxValue / 8;

    /// <summary>Bytes of the shortest value <paramref name="schema"/> allows (computed by <see cref="Compute"/>).</summary>
    public static int Value(SchemaNode schema) => schema.MinBytes;

    /// <summary>
    /// Sets <see cref="SchemaNode.MinBytes"/> on every node reachable from <paramref name="root"/>. Recursive schemas
    /// are solved by iterating to a fixed point from "unbounded"; values only fall, so it ends. Nodes computed by an
    /// earlier call (the shared <see cref="SchemaNode.Any"/>) keep their value, and new values are published only at
    /// the end, so a schema compiled on another thread never sees a partial result.
    /// </summary>
    public static void Compute(SchemaNode root)
    {
        var nodes = new List<SchemaNode>();
        var seen = new HashSet<SchemaNode>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<SchemaNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            if (n.MinBytes >= 0 || !seen.Add(n)) continue;
            nodes.Add(n);
            foreach (var child in Children(n)) stack.Push(child);
        }
        if (nodes.Count == 0) return;
        var values = new Dictionary<SchemaNode, int>(ReferenceEqualityComparer.Instance);
        foreach (var n in nodes) values[n] = Unbounded;
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var n in nodes)
            {
                var v = Shortest(n, s => s.MinBytes >= 0 ? s.MinBytes : values[s]);
                if (v < values[n])
                {
                    values[n] = v;
                    changed = true;
                }
            }
        }
        foreach (var n in nodes) n.MinBytes = values[n];
    }

    private static IEnumerable<SchemaNode> Children(SchemaNode n)
    {
        if (n.AnyOf is { } alternatives)
        {
            foreach (var a in alternatives) yield return a;
        }
        foreach (var p in n.Properties) yield return p.Schema;
        if (n.Additional is { } additional) yield return additional;
        if (n.Items is { } items) yield return items;
    }

    /// <summary>The shortest value of <paramref name="n"/>, given the shortest of its children.</summary>
    private static int Shortest(SchemaNode n, Func<SchemaNode, int> child)
    {
        if (n.AnyOf is { } alternatives) return alternatives.Min(child);
        if (n.Literals is { } literals) return literals.Count == 0 ? Unbounded : literals.Min(l => l.Length);
        long best = Unbounded;
        var t = n.Types;
        if ((t & (JsonTypes.Number | JsonTypes.Integer)) != 0) best = Math.Min(best, 1);                   // 0
        if ((t & (JsonTypes.Null | JsonTypes.Boolean)) != 0) best = Math.Min(best, 4);                     // null, true
        if ((t & JsonTypes.String) != 0) best = Math.Min(best, 2L + n.MinLength);                           // "aaa"
        if ((t & JsonTypes.Array) != 0)
        {
            var items = n.MinItems == 0 ? 0 : (long)n.MinItems * child(n.Items ?? SchemaNode.Any) + (n.MinItems - 1);
            best = Math.Min(best, 2 + items);
        }
        if ((t & JsonTypes.Object) != 0) best = Math.Min(best, 1 + ObjectRest(n, 0, first: true, child));
        return Clamp(best);
    }

    /// <summary>
    /// Bytes that finish an object after its <c>{</c> (<paramref name="first"/>) or after a value: every missing
    /// required property as <c>,"key":value</c>, then <c>}</c>.
    /// </summary>
    public static int ObjectRest(SchemaNode schema, ulong seen, bool first) => ObjectRest(schema, seen, first, Value);

    private static int ObjectRest(SchemaNode schema, ulong seen, bool first, Func<SchemaNode, int> child)
    {
        long total = 1;
        var missing = schema.Required & ~seen;
        var count = 0;
        for (var i = 0; i < schema.Properties.Count && i < 64; i++)
        {
            if ((missing & (1UL << i)) == 0) continue;
            total += Pair(schema.Properties[i], child);
            count++;
        }
        if (count > 0) total += first ? count - 1 : count;
        return Clamp(total);
    }

    /// <summary>
    /// Bytes that finish an object that expects a key after a comma: one key is needed even when none is required,
    /// so the cheapest unseen declared property or an empty undeclared name is added.
    /// </summary>
    public static int ObjectAfterComma(SchemaNode schema, ulong seen, ObjectFrame.KeyList? extra)
    {
        var missing = schema.Required & ~seen;
        if (missing != 0) return Clamp(ObjectRest(schema, seen, first: true));
        long best = Unbounded;
        for (var i = 0; i < schema.Properties.Count && i < 64; i++)
        {
            if ((seen & (1UL << i)) == 0) best = Math.Min(best, Pair(schema.Properties[i], Value));
        }
        if (schema.Additional is { } additional && !(extra?.Contains([]) ?? false) && !schema.Properties.Exists(p => p.Key.Length == 0))
        {
            best = Math.Min(best, 3L + Value(additional)); // "":value
        }
        return Clamp(best + 1);
    }

    /// <summary><c>"key":value</c> of a declared property.</summary>
    private static long Pair(SchemaNode.Property p, Func<SchemaNode, int> child) => p.Key.Length + 3L + child(p.Schema);

    /// <summary>Bytes that finish an array holding <paramref name="count"/> items: the missing minimum items, then <c>]</c>.</summary>
    public static int ArrayRest(SchemaNode schema, int count)
    {
        var missing = Math.Max(0, schema.MinItems - count);
        if (missing == 0) return 1;
        // The first missing item needs no comma when the array is still empty.
        var commas = count == 0 ? missing - 1 : missing;
        return Clamp((long)missing * Value(schema.Items ?? SchemaNode.Any) + commas + 1);
    }

    /// <summary>
    /// Bytes that complete every parse position of <paramref name="stack"/> (0 when the document is finished; at
    /// least 1 for a complete value that still needs a byte or a stop token to end, such as a number at the root).
    /// </summary>
    public static int Complete(MatchStack stack)
    {
        if (stack.IsFinished) return 0;
        long total = 0;
        for (var s = stack; s is not null;)
        {
            if (s.Top is KeyFrame key)
            {
                // A key's cost covers the rest of its object, the frame below it.
                total += key.RemainingWith((ObjectFrame)s.Rest!.Top);
                s = s.Rest.Rest;
                continue;
            }
            total += s.Top.RemainingBytes;
            s = s.Rest;
        }
        return Clamp(Math.Max(total, 1));
    }

    public static int Clamp(long value) => (int)Math.Min(value, Unbounded);
}
