using System.Runtime.CompilerServices;

namespace Flywheel.Tokenizers.ChatTemplates;

// Expression grammar, lowest precedence first:
// condexpr > or > and > not > compare (in, not in, ==, <...) > + - > ~ > * / // % > ** > unary - +
// > primary with postfix (.attr, [item], call) > filters (|f) and tests (is t).
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", ">", "<=", ">="];

    private Expr ParseExpression(bool withCondExpr = true) => withCondExpr ? ParseCondExpr() : ParseOr();

    private Expr ParseTuple(bool withCondExpr, bool explicitParens, string? extraEnd = null)
    {
        var start = Current;
        var items = new List<Expr>();
        var isTuple = false;
        while (true)
        {
            if (items.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
            }

            if (IsTupleEnd(extraEnd))
            {
                break;
            }

            items.Add(ParseExpression(withCondExpr));
            if (Current.IsOperator(","))
            {
                isTuple = true;
            }
            else
            {
                break;
            }
        }

        if (!isTuple)
        {
            if (items.Count == 1)
            {
                return items[0];
            }

            if (!explicitParens)
            {
                throw Error($"Expected an expression, got {Current}", Current);
            }
        }

        return new TupleExpr(start.Offset, items);
    }

    private bool IsTupleEnd(string? extraEnd)
    {
        var token = Current;
        return token.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End
            || token.IsOperator(")")
            || (extraEnd != null && token.IsName(extraEnd));
    }

    private Expr ParseCondExpr()
    {
        var start = Current;
        var expr = ParseOr();
        while (SkipName("if"))
        {
            var test = ParseOr();
            Expr? elseExpr = SkipName("else") ? ParseCondExpr() : null;
            expr = new CondExpr(start.Offset, test, expr, elseExpr);
        }

        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, "or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, "and", left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var op = Next();
            return new UnaryExpr(op.Offset, "not", ParseNot());
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var start = Current;
        var first = ParseMath1();
        var rest = new List<KeyValuePair<string, Expr>>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Text))
            {
                var op = Next().Text;
                rest.Add(new(op, ParseMath1()));
            }
            else if (SkipName("in"))
            {
                rest.Add(new("in", ParseMath1()));
            }
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                _index += 2;
                rest.Add(new("notin", ParseMath1()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(start.Offset, first, rest);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, op.Text, left, ParseConcat());
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, "~", left, ParseMath2());
        }

        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, op.Text, left, ParsePow());
        }

        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr(op.Offset, "**", left, ParseUnary(withFilter: true));
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var token = Current;
        Expr node;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            _index++;
            node = new UnaryExpr(token.Offset, token.Text, ParseUnary(withFilter: false));
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilter ? ParseFilterChain(node, startWithPipe: true) : node;
    }

    private Expr ParsePrimary()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Name:
                _index++;
                return token.Text switch
                {
                    "true" or "True" => new ConstExpr(token.Offset, true),
                    "false" or "False" => new ConstExpr(token.Offset, false),
                    "none" or "None" => new ConstExpr(token.Offset, null),
                    _ => new NameExpr(token.Offset, token.Text),
                };
            case TokenKind.String:
                _index++;
                var text = (string)token.Value!;
                while (Current.Kind == TokenKind.String)
                {
                    text += (string)Next().Value!;
                }

                return new ConstExpr(token.Offset, text);
            case TokenKind.Integer:
            case TokenKind.Float:
                _index++;
                return new ConstExpr(token.Offset, token.Value);
            case TokenKind.Operator when token.Text == "(":
                _index++;
                var inner = ParseTuple(withCondExpr: true, explicitParens: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            case TokenKind.Operator when token.Text == "[":
                return ParseList();
            case TokenKind.Operator when token.Text == "{":
                return ParseDict();
            case TokenKind.End:
                throw Error("unexpected end of template", token);
            default:
                throw Error($"unexpected {token}", token);
        }
    }

    private ListExpr ParseList()
    {
        var start = Expect(TokenKind.Operator, "[");
        var items = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (items.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
            }

            if (Current.IsOperator("]"))
            {
                break;
            }

            items.Add(ParseExpression());
        }

        Expect(TokenKind.Operator, "]");
        return new ListExpr(start.Offset, items);
    }

    private DictExpr ParseDict()
    {
        var start = Expect(TokenKind.Operator, "{");
        var items = new List<KeyValuePair<Expr, Expr>>();
        while (!Current.IsOperator("}"))
        {
            if (items.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
            }

            if (Current.IsOperator("}"))
            {
                break;
            }

            var key = ParseExpression();
            Expect(TokenKind.Operator, ":");
            items.Add(new(key, ParseExpression()));
        }

        Expect(TokenKind.Operator, "}");
        return new DictExpr(start.Offset, items);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var token = Current;
            if (token.IsOperator("."))
            {
                _index++;
                var attr = Current;
                if (attr.Kind == TokenKind.Name)
                {
                    _index++;
                    node = new AttrExpr(token.Offset, node, attr.Text);
                }
                else if (attr.Kind == TokenKind.Integer)
                {
                    _index++;
                    node = new ItemExpr(token.Offset, node, new ConstExpr(attr.Offset, attr.Value));
                }
                else
                {
                    throw Error("expected name or number", attr);
                }
            }
            else if (token.IsOperator("["))
            {
                _index++;
                var keys = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (keys.Count > 0)
                    {
                        Expect(TokenKind.Operator, ",");
                    }

                    keys.Add(ParseSubscribed());
                }

                Expect(TokenKind.Operator, "]");
                var key = keys.Count == 1 ? keys[0] : new TupleExpr(token.Offset, keys);
                node = new ItemExpr(token.Offset, node, key);
            }
            else if (token.IsOperator("("))
            {
                node = new CallExpr(token.Offset, node, ParseCallArgs());
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscribed()
    {
        var start = Current;
        Expr? first = null;
        if (!Current.IsOperator(":"))
        {
            first = ParseExpression();
            if (!Current.IsOperator(":"))
            {
                return first;
            }
        }

        _index++;
        Expr? stop = null;
        Expr? step = null;
        if (!Current.IsOperator("]") && !Current.IsOperator(",") && !Current.IsOperator(":"))
        {
            stop = ParseExpression();
        }

        if (SkipOperator(":") && !Current.IsOperator("]") && !Current.IsOperator(","))
        {
            step = ParseExpression();
        }

        return new SliceExpr(start.Offset, first, stop, step);
    }

    private CallArgs ParseCallArgs()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var named = new List<KeyValuePair<string, Expr>>();
        Expr? star = null;
        Expr? doubleStar = null;
        var first = true;
        while (!Current.IsOperator(")"))
        {
            if (!first)
            {
                Expect(TokenKind.Operator, ",");
                if (Current.IsOperator(")"))
                {
                    break;
                }
            }

            first = false;
            if (SkipOperator("*"))
            {
                star = ParseExpression();
            }
            else if (SkipOperator("**"))
            {
                doubleStar = ParseExpression();
            }
            else if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                var name = Next().Text;
                _index++;
                named.Add(new(name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0)
                {
                    throw Error("positional argument follows keyword argument", Current);
                }

                positional.Add(ParseExpression());
            }
        }

        Expect(TokenKind.Operator, ")");
        return new CallArgs(positional, named, star, doubleStar);
    }

    private Expr ParseFilterChain(Expr? node, bool startWithPipe)
    {
        var needPipe = startWithPipe;
        while (true)
        {
            var token = Current;
            if (!needPipe && node == null)
            {
                node = ParseOneFilter(null);
                continue;
            }

            if (token.IsOperator("|"))
            {
                _index++;
                node = ParseOneFilter(node);
            }
            else if (token.IsName("is") && node != null)
            {
                node = ParseTest(node);
            }
            else if (token.IsOperator("(") && node != null)
            {
                node = new CallExpr(token.Offset, node, ParseCallArgs());
            }
            else
            {
                return node ?? throw Error("expected filter", token);
            }
        }
    }

    private FilterExpr ParseOneFilter(Expr? target)
    {
        var nameToken = Expect(TokenKind.Name);
        var name = nameToken.Text;
        while (Current.IsOperator("."))
        {
            _index++;
            name += "." + Expect(TokenKind.Name).Text;
        }

        var args = Current.IsOperator("(") ? ParseCallArgs() : CallArgs.Empty;
        return new FilterExpr(nameToken.Offset, target, name, args);
    }

    private Expr ParseTest(Expr node)
    {
        var isToken = Next();
        var negated = SkipName("not");
        var name = Expect(TokenKind.Name).Text;
        while (Current.IsOperator("."))
        {
            _index++;
            name += "." + Expect(TokenKind.Name).Text;
        }

        CallArgs args;
        var token = Current;
        if (token.IsOperator("("))
        {
            args = ParseCallArgs();
        }
        else if ((token.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || token.IsOperator("(") || token.IsOperator("[") || token.IsOperator("{"))
                 && !token.IsName("else") && !token.IsName("or") && !token.IsName("and"))
        {
            if (token.IsName("is"))
            {
                throw Error("You cannot chain multiple tests with is", token);
            }

            args = new CallArgs([ParsePostfix(ParsePrimary())], [], null, null);
        }
        else
        {
            args = CallArgs.Empty;
        }

        return new TestExpr(isToken.Offset, node, name, args, negated);
    }
}
