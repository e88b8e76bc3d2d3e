using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Datasets;

/// <summary>
/// A filter over captured exchanges, written as a small expression:
/// <code>
/// expr       := term ("or" term)*
/// term       := factor ("and" factor)*
/// factor     := "not" factor | "(" expr ")" | "corrected" | comparison
/// comparison := "rating" op (1..5 | up | down)          op: = == != &lt; &lt;= &gt; &gt;=
///             | ("kind" | "model" | "adapter") (= | == | !=) value
/// value      := 'quoted' | "quoted" | bare word (letters, digits, _ - . : /)
/// </code>
/// Keywords are case-insensitive. A record never rated has no rating, so every rating comparison is false for
/// it (<c>not rating &gt;= 4</c> does include it). <c>adapter = none</c> matches records served without an adapter.
/// Example: <c>rating &gt;= 4 or corrected</c>, <c>kind = chat and model = 'qwen2.5-0.5b' and not rating = down</c>.
/// </summary>
public sealed class TrafficFilter
{
    private readonly Func<CapturedExchange, bool> _predicate;

    private TrafficFilter(string expression, Func<CapturedExchange, bool> predicate)
    {
        Expression = expression;
        _predicate = predicate;
    }

    /// <summary>The text it was parsed from.</summary>
    public string Expression { get; }

    /// <summary>Matches everything.</summary>
    public static TrafficFilter All { get; } = new("", _ => true);

    public bool Matches(CapturedExchange exchange) => _predicate(exchange);

    /// <summary>Parses an expression; throws <see cref="FilterSyntaxException"/> naming the position of the problem.</summary>
    public static TrafficFilter Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Trim().Length == 0)
        {
            throw new FilterSyntaxException(expression, 1, "the expression is empty");
        }
        var parser = new Parser(expression);
        var predicate = parser.ParseAll();
        return new TrafficFilter(expression, predicate);
    }

    private enum TokenKind { Word, Quoted, Operator, Open, Close, End }

    private readonly record struct Token(TokenKind Kind, string Text, int Position);

    private sealed class Parser
    {
        private readonly string _text;
        private readonly List<Token> _tokens;
        private int _next;

        public Parser(string text)
        {
            _text = text;
            _tokens = Tokenize(text);
        }

        public Func<CapturedExchange, bool> ParseAll()
        {
            var result = ParseOr();
            var token = Peek();
            if (token.Kind != TokenKind.End)
            {
                throw Error(token, token.Kind == TokenKind.Close ? "unmatched ')'" : $"expected 'and', 'or' or the end, found '{token.Text}'");
            }
            return result;
        }

        private Func<CapturedExchange, bool> ParseOr()
        {
            var left = ParseAnd();
            while (IsKeyword(Peek(), "or"))
            {
                _next++;
                var a = left;
                var b = ParseAnd();
                left = e => a(e) || b(e);
            }
            return left;
        }

        private Func<CapturedExchange, bool> ParseAnd()
        {
            var left = ParseNot();
            while (IsKeyword(Peek(), "and"))
            {
                _next++;
                var a = left;
                var b = ParseNot();
                left = e => a(e) && b(e);
            }
            return left;
        }

        private Func<CapturedExchange, bool> ParseNot()
        {
            var token = Peek();
            if (IsKeyword(token, "not"))
            {
                _next++;
                var inner = ParseNot();
                return e => !inner(e);
            }
            if (token.Kind == TokenKind.Open)
            {
                _next++;
                var inner = ParseOr();
                var close = Peek();
                if (close.Kind != TokenKind.Close)
                {
                    throw Error(close, close.Kind == TokenKind.End ? "missing ')'" : $"expected ')', found '{close.Text}'");
                }
                _next++;
                return inner;
            }
            return ParseComparison();
        }

        private Func<CapturedExchange, bool> ParseComparison()
        {
            var field = Peek();
            if (field.Kind != TokenKind.Word)
            {
                throw Error(field, field.Kind == TokenKind.End ? "expected a condition (rating, corrected, kind, model, adapter)" : $"expected a condition, found '{field.Text}'");
            }
            _next++;
            string name = field.Text.ToLowerInvariant();
            switch (name)
            {
                case "corrected":
                    return e => e.IsCorrected;
                case "rating":
                {
                    var op = ExpectOperator(field);
                    var value = Peek();
                    if (value.Kind is TokenKind.Operator or TokenKind.End)
                    {
                        throw Error(value, $"expected a rating after '{op.Text}'" + (value.Kind == TokenKind.End ? "" : $", found '{value.Text}'"));
                    }
                    if (value.Kind is not (TokenKind.Word or TokenKind.Quoted) || !FeedbackRatings.TryParse(value.Text, out int rating))
                    {
                        throw Error(value, "a rating is compared with 1 to 5, up or down");
                    }
                    _next++;
                    return op.Text switch
                    {
                        "=" or "==" => e => e.Rating == rating,
                        "!=" => e => e.Rating is { } r && r != rating,
                        "<" => e => e.Rating < rating,
                        "<=" => e => e.Rating <= rating,
                        ">" => e => e.Rating > rating,
                        _ => e => e.Rating >= rating,
                    };
                }
                case "kind" or "model" or "adapter":
                {
                    var op = ExpectOperator(field);
                    if (op.Text is not ("=" or "==" or "!="))
                    {
                        throw Error(op, $"{name} is compared with = or !=");
                    }
                    var value = Peek();
                    if (value.Kind is not (TokenKind.Word or TokenKind.Quoted))
                    {
                        throw Error(value, $"expected a value after '{op.Text}'");
                    }
                    _next++;
                    Func<CapturedExchange, bool> test;
                    if (name == "kind")
                    {
                        if (!TrafficKinds.TryParse(value.Text, out var kind))
                        {
                            throw Error(value, "kind is chat or completion");
                        }
                        test = e => e.Record.Kind == kind;
                    }
                    else if (name == "model")
                    {
                        test = e => string.Equals(e.Record.Model, value.Text, StringComparison.Ordinal);
                    }
                    else
                    {
                        string? adapter = value.Kind == TokenKind.Word && value.Text.Equals("none", StringComparison.OrdinalIgnoreCase) ? null : value.Text;
                        test = e => string.Equals(e.Record.Adapter, adapter, StringComparison.Ordinal);
                    }
                    return op.Text == "!=" ? e => !test(e) : test;
                }
                default:
                    throw Error(field, $"unknown condition '{field.Text}' (known: rating, corrected, kind, model, adapter)");
            }
        }

        private Token ExpectOperator(Token field)
        {
            var op = Peek();
            if (op.Kind != TokenKind.Operator)
            {
                throw Error(op, $"expected a comparison (= != < <= > >=) after '{field.Text}'");
            }
            _next++;
            return op;
        }

        private Token Peek() => _tokens[_next];

        private static bool IsKeyword(Token token, string keyword) =>
            token.Kind == TokenKind.Word && token.Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);

        private FilterSyntaxException Error(Token token, string problem) => new(_text, token.Position, problem);

        private static List<Token> Tokenize(string text)
        {
            var tokens = new List<Token>();
            int i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                int position = i + 1;
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c == '(' || c == ')')
                {
                    tokens.Add(new Token(c == '(' ? TokenKind.Open : TokenKind.Close, c.ToString(), position));
                    i++;
                }
                else if (c is '=' or '!' or '<' or '>')
                {
                    string op = i + 1 < text.Length && text[i + 1] == '=' ? text.Substring(i, 2) : c.ToString();
                    if (op == "!")
                    {
                        throw new FilterSyntaxException(text, position, "'!' must be followed by '=' (use 'not' to negate)");
                    }
                    tokens.Add(new Token(TokenKind.Operator, op, position));
                    i += op.Length;
                }
                else if (c is '\'' or '"')
                {
                    int end = text.IndexOf(c, i + 1);
                    if (end < 0)
                    {
                        throw new FilterSyntaxException(text, position, $"unterminated string (no closing {c})");
                    }
                    tokens.Add(new Token(TokenKind.Quoted, text[(i + 1)..end], position));
                    i = end + 1;
                }
                else if (IsWordChar(c))
                {
                    int start = i;
                    while (i < text.Length && IsWordChar(text[i])) i++;
                    tokens.Add(new Token(TokenKind.Word, text[start..i], position));
                }
                else
                {
                    throw new FilterSyntaxException(text, position, $"unexpected character '{c}'");
                }
            }
            tokens.Add(new Token(TokenKind.End, "", text.Length + 1));
            return tokens;
        }

        private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '/';
    }
}
