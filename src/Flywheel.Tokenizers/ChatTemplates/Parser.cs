using System.Runtime.CompilerServices;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Recursive-descent parser producing the AST; statements here, expressions in Parser.Expressions.cs.
/// The grammar and operator precedence follow jinja2's parser.
/// </summary>
internal sealed partial class Parser
{
    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private int _index;
    private readonly Stack<string> _openTags = new();

    private Parser(SourceText source, List<Token> tokens)
    {
        _source = source;
        _tokens = tokens;
    }

    public static List<Stmt> Parse(SourceText source)
    {
        var parser = new Parser(source, Lexer.Tokenize(source));
        List<Stmt> body;
        try
        {
            body = parser.ParseBody([]);
        }
        catch (InsufficientExecutionStackException)
        {
            throw parser.Error("template nested too deeply", parser.Current);
        }

        if (parser.Current.Kind != TokenKind.End)
        {
            throw parser.Error($"Encountered unknown tag '{parser.Current.Text}'.", parser.Current);
        }

        return body;
    }

    private Token Current => _tokens[_index];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_index++];

    private ChatTemplateException Error(string reason, Token at) => _source.Error(reason, at.Offset);

    private bool SkipName(string name)
    {
        if (Current.IsName(name))
        {
            _index++;
            return true;
        }

        return false;
    }

    private bool SkipOperator(string op)
    {
        if (Current.IsOperator(op))
        {
            _index++;
            return true;
        }

        return false;
    }

    private Token Expect(TokenKind kind, string? text = null)
    {
        var token = Current;
        if (token.Kind != kind || (text != null && token.Text != text))
        {
            var wanted = text != null ? $"'{text}'" : kind switch
            {
                TokenKind.Name => "name",
                TokenKind.BlockEnd => "end of statement block",
                TokenKind.VariableEnd => "end of print statement",
                _ => kind.ToString(),
            };
            if (token.Kind == TokenKind.End)
            {
                throw Error($"unexpected end of template, expected {wanted}.", token);
            }

            throw Error($"expected token {wanted}, got {token}", token);
        }

        _index++;
        return token;
    }

    /// <summary>
    /// Parses statements until a block tag whose name is in <paramref name="endTags"/>; leaves the
    /// stream positioned on that name (the "{%" is consumed).
    /// </summary>
    private List<Stmt> ParseBody(string[] endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.Data:
                    _index++;
                    body.Add(new TextStmt(token.Offset, token.Text));
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    var value = ParseTuple(withCondExpr: true, explicitParens: false);
                    Expect(TokenKind.VariableEnd);
                    body.Add(new OutputStmt(token.Offset, value));
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    if (Current.Kind == TokenKind.Name && Array.IndexOf(endTags, Current.Text) >= 0)
                    {
                        return body;
                    }

                    body.Add(ParseStatement());
                    break;
                case TokenKind.End:
                    if (endTags.Length > 0)
                    {
                        var open = _openTags.Count > 0 ? _openTags.Peek() : "block";
                        throw Error(
                            $"Unexpected end of template. Jinja was looking for the following tags: {string.Join(" or ", endTags.Select(t => $"'{t}'"))}. The innermost block that needs to be closed is '{open}'.",
                            token);
                    }

                    return body;
                default:
                    throw Error($"unexpected {token}", token);
            }
        }
    }

    private Stmt ParseStatement()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var token = Current;
        if (token.Kind != TokenKind.Name)
        {
            throw Error("tag name expected", token);
        }

        _openTags.Push(token.Text);
        try
        {
            _index++;
            Stmt stmt = token.Text switch
            {
                "for" => ParseFor(token),
                "if" => ParseIf(token),
                "set" => ParseSet(token),
                "macro" => ParseMacro(token),
                "call" => ParseCallBlock(token),
                "filter" => ParseFilterBlock(token),
                "with" => ParseWith(token),
                "generation" => ParseGeneration(token),
                "block" => ParseBlock(token),
                "break" => new BreakStmt(token.Offset),
                "continue" => new ContinueStmt(token.Offset),
                _ => throw UnknownTag(token),
            };
            if (stmt is BreakStmt or ContinueStmt)
            {
                Expect(TokenKind.BlockEnd);
            }

            return stmt;
        }
        finally
        {
            _openTags.Pop();
        }
    }

    private ChatTemplateException UnknownTag(Token token)
    {
        var message = $"Encountered unknown tag '{token.Text}'.";
        if (_openTags.Count > 1)
        {
            var enclosing = _openTags.ElementAt(1);
            message += $" The innermost block that needs to be closed is '{enclosing}'.";
        }

        return Error(message, token);
    }

    private ForStmt ParseFor(Token start)
    {
        var target = ParseAssignTarget(allowNamespace: false, stopAtIn: true);
        Expect(TokenKind.Name, "in");
        var iterable = ParseTuple(withCondExpr: false, explicitParens: false, extraEnd: "recursive");
        Expr? filter = null;
        if (SkipName("if"))
        {
            filter = ParseExpression();
        }

        var recursive = SkipName("recursive");
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endfor", "else"]);
        var elseBody = new List<Stmt>();
        if (Next().Text == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = ParseBody(["endfor"]);
            _index++;
        }

        Expect(TokenKind.BlockEnd);
        return new ForStmt(start.Offset, target, iterable, filter, body, elseBody, recursive);
    }

    private IfStmt ParseIf(Token start)
    {
        var test = ParseTuple(withCondExpr: false, explicitParens: false);
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["elif", "else", "endif"]);
        var tag = Next();
        List<Stmt> elseBody = [];
        if (tag.Text == "elif")
        {
            elseBody = [ParseIf(tag)];
            return new IfStmt(start.Offset, test, body, elseBody);
        }

        if (tag.Text == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = ParseBody(["endif"]);
            _index++;
        }

        Expect(TokenKind.BlockEnd);
        return new IfStmt(start.Offset, test, body, elseBody);
    }

    private Stmt ParseSet(Token start)
    {
        var target = ParseAssignTarget(allowNamespace: true, stopAtIn: false);
        if (SkipOperator("="))
        {
            var value = ParseTuple(withCondExpr: true, explicitParens: false);
            Expect(TokenKind.BlockEnd);
            return new SetStmt(start.Offset, target, value);
        }

        FilterExpr? filter = null;
        if (Current.IsOperator("|"))
        {
            filter = (FilterExpr)ParseFilterChain(null, startWithPipe: true);
        }

        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endset"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new SetBlockStmt(start.Offset, target, body, filter);
    }

    private MacroStmt ParseMacro(Token start)
    {
        var name = Expect(TokenKind.Name).Text;
        var parameters = ParseSignature();
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endmacro"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new MacroStmt(start.Offset, name, parameters, body);
    }

    private List<MacroParam> ParseSignature()
    {
        var parameters = new List<MacroParam>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            var name = Expect(TokenKind.Name).Text;
            Expr? defaultValue = SkipOperator("=") ? ParseExpression() : null;
            parameters.Add(new MacroParam(name, defaultValue));
        }

        _index++;
        return parameters;
    }

    private CallBlockStmt ParseCallBlock(Token start)
    {
        var parameters = Current.IsOperator("(") ? ParseSignature() : [];
        var call = ParseExpression() as CallExpr ?? throw Error("expected call", start);
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endcall"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new CallBlockStmt(start.Offset, call, parameters, body);
    }

    private FilterBlockStmt ParseFilterBlock(Token start)
    {
        var filter = (FilterExpr)ParseFilterChain(null, startWithPipe: false);
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endfilter"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new FilterBlockStmt(start.Offset, filter, body);
    }

    private WithStmt ParseWith(Token start)
    {
        var assignments = new List<KeyValuePair<Expr, Expr>>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
            }

            var target = ParseAssignTarget(allowNamespace: false, stopAtIn: false);
            Expect(TokenKind.Operator, "=");
            assignments.Add(new(target, ParseExpression()));
        }

        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endwith"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new WithStmt(start.Offset, assignments, body);
    }

    private GenerationStmt ParseGeneration(Token start)
    {
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endgeneration"]);
        _index++;
        Expect(TokenKind.BlockEnd);
        return new GenerationStmt(start.Offset, body);
    }

    private BlockStmt ParseBlock(Token start)
    {
        var name = Expect(TokenKind.Name).Text;
        var scoped = SkipName("scoped");
        SkipName("required");
        Expect(TokenKind.BlockEnd);
        var body = ParseBody(["endblock"]);
        _index++;
        if (Current.Kind == TokenKind.Name)
        {
            var endName = Next();
            if (endName.Text != name)
            {
                throw Error($"'{name}' block ended with 'endblock {endName.Text}'", endName);
            }
        }

        Expect(TokenKind.BlockEnd);
        return new BlockStmt(start.Offset, name, scoped, body);
    }

    private Expr ParseAssignTarget(bool allowNamespace, bool stopAtIn)
    {
        var start = Current;
        if (allowNamespace && Current.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            var ns = Next();
            _index++;
            var attr = Expect(TokenKind.Name);
            return new AttrExpr(ns.Offset, new NameExpr(ns.Offset, ns.Text), attr.Text);
        }

        var names = new List<Expr>();
        var parenthesized = SkipOperator("(");
        while (true)
        {
            var name = Expect(TokenKind.Name);
            names.Add(new NameExpr(name.Offset, name.Text));
            if (!SkipOperator(","))
            {
                break;
            }

            if ((stopAtIn && Current.IsName("in")) || Current.IsOperator("=") || Current.IsOperator(")"))
            {
                break;
            }
        }

        if (parenthesized)
        {
            Expect(TokenKind.Operator, ")");
        }

        return names.Count == 1 && !parenthesized && !_tokens[_index - 1].IsOperator(",")
            ? names[0]
            : new TupleExpr(start.Offset, names);
    }
}
