using System.Text;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Walks the AST and writes output. One instance per render call; not thread-safe.
/// Statements here; expressions in Interpreter.Expressions.cs.
/// </summary>
internal sealed partial class Interpreter
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private readonly SourceText _source;
    private readonly Func<DateTimeOffset> _clock;
    private StringBuilder _out = new();
    private Scope? _root;
    private bool _folding;

    public Interpreter(SourceText source, Func<DateTimeOffset> clock)
    {
        _source = source;
        _clock = clock;
    }

    public DateTimeOffset Now => _clock();

    public string Render(List<Stmt> body, Scope root)
    {
        _root = root;
        try
        {
            ExecBlock(body, root);
            return _out.ToString();
        }
        catch (TemplateRuntimeException e)
        {
            throw ToPublic(e, -1);
        }
    }

    private ChatTemplateException ToPublic(TemplateRuntimeException e, int offset)
    {
        var at = e.Data["offset"] is int o ? o : offset;
        var (line, column) = at >= 0 ? _source.Position(at) : (0, 0);
        return new ChatTemplateException(e.Message, line, column, e is TemplateRaisedException, e);
    }

    /// <summary>Renders <paramref name="body"/> into a string instead of the current output.</summary>
    public string Capture(List<Stmt> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            ExecBlock(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private Flow ExecBlock(List<Stmt> body, Scope scope)
    {
        foreach (var stmt in body)
        {
            var flow = Exec(stmt, scope);
            if (flow != Flow.Normal)
            {
                return flow;
            }
        }

        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope)
    {
        try
        {
            switch (stmt)
            {
                case TextStmt textStmt:
                    _out.Append(textStmt.Text);
                    return Flow.Normal;
                case OutputStmt output:
                    _out.Append(PyOps.Str(EvaluateOutput(output.Value, scope)));
                    return Flow.Normal;
                case IfStmt ifStmt:
                    return ExecBlock(PyOps.IsTruthy(Evaluate(ifStmt.Test, scope)) ? ifStmt.Body : ifStmt.Else, scope);
                case ForStmt forStmt:
                    ExecFor(forStmt, scope);
                    return Flow.Normal;
                case SetStmt set:
                    Assign(set.Target, Evaluate(set.Value, scope), scope);
                    return Flow.Normal;
                case SetBlockStmt setBlock:
                    // Block bodies (set, filter, generation) get their own frame in jinja2: their
                    // assignments stay inside.
                    object? captured = Capture(setBlock.Body, new Scope(scope));
                    if (setBlock.Filter != null)
                    {
                        captured = ApplyFilterChain(setBlock.Filter, captured, scope);
                    }

                    Assign(setBlock.Target, captured, scope);
                    return Flow.Normal;
                case MacroStmt macro:
                    scope.Set(macro.Name, new Macro(macro.Name, macro.Params, macro.Body, scope));
                    return Flow.Normal;
                case CallBlockStmt callBlock:
                    ExecCallBlock(callBlock, scope);
                    return Flow.Normal;
                case FilterBlockStmt filterBlock:
                    var text = Capture(filterBlock.Body, new Scope(scope));
                    _out.Append(PyOps.Str(ApplyFilterChain(filterBlock.Filter, text, scope)));
                    return Flow.Normal;
                case WithStmt with:
                    var inner = new Scope(scope);
                    foreach (var (target, value) in with.Assignments)
                    {
                        Assign(target, Evaluate(value, scope), inner);
                    }

                    return ExecBlock(with.Body, inner);
                case GenerationStmt generation:
                    return ExecBlock(generation.Body, new Scope(scope));
                case BlockStmt block:
                    // Unscoped blocks see template-level variables only, as jinja2 renders them from the context.
                    ExecBlock(block.Body, new Scope(block.Scoped ? scope : _root));
                    return Flow.Normal;
                case BreakStmt:
                    return Flow.Break;
                case ContinueStmt:
                    return Flow.Continue;
                default:
                    throw new InvalidOperationException($"unknown statement {stmt.GetType().Name}");
            }
        }
        catch (TemplateRuntimeException e) when (e.Data["offset"] is null)
        {
            e.Data["offset"] = stmt.Offset;
            throw;
        }
        catch (Exception e) when (IsHostFailure(e))
        {
            throw Translate(e, stmt.Offset);
        }
    }

    // jinja2 evaluates a constant {{ }} expression at compile time, where a failed subscript is undefined
    // rather than an error; when that folding fails it compiles the expression normally instead.
    private object? EvaluateOutput(Expr expr, Scope scope)
    {
        if (!IsConstant(expr))
        {
            return Evaluate(expr, scope);
        }

        try
        {
            _folding = true;
            return Evaluate(expr, scope);
        }
        catch (TemplateRuntimeException)
        {
            _folding = false;
            return Evaluate(expr, scope);
        }
        finally
        {
            _folding = false;
        }
    }

    private void ExecFor(ForStmt stmt, Scope scope) => RunLoop(stmt, Evaluate(stmt.Iterable, scope), scope, depth0: 0);

    private void RunLoop(ForStmt stmt, object? source, Scope scope, int depth0)
    {
        var items = PyOps.Iterate(source);
        if (stmt.Filter != null)
        {
            var filtered = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Assign(stmt.Target, item, probe);
                if (PyOps.IsTruthy(Evaluate(stmt.Filter, probe)))
                {
                    filtered.Add(item);
                }
            }

            items = filtered;
        }
        else
        {
            items = [.. items];
        }

        if (items.Count == 0)
        {
            ExecBlock(stmt.Else, new Scope(scope));
            return;
        }

        // loop.depth counts recursive-loop levels only, so it is 1 for ordinary nested loops.
        var loop = new LoopContext(items, depth0)
        {
            Recurse = stmt.Recursive ? inner => CaptureLoop(stmt, inner, scope, depth0 + 1) : null,
        };
        for (var i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var iteration = new Scope(scope);
            Assign(stmt.Target, items[i], iteration);
            iteration.Set("loop", loop);
            if (ExecBlock(stmt.Body, iteration) == Flow.Break)
            {
                break;
            }
        }
    }

    private string CaptureLoop(ForStmt stmt, object? items, Scope scope, int depth0)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            RunLoop(stmt, items, scope, depth0);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private void ExecCallBlock(CallBlockStmt stmt, Scope scope)
    {
        var callee = Evaluate(stmt.Call.Target, scope);
        var (args, kwargs) = EvaluateArgs(stmt.Call.Args, scope);
        var caller = new Macro("caller", stmt.Params, stmt.Body, scope);
        if (callee is Macro macro)
        {
            _out.Append(macro.CallWithCaller(this, args, kwargs, caller));
            return;
        }

        kwargs.Add(new("caller", caller));
        _out.Append(PyOps.Str(Invoke(callee, args, kwargs, stmt.Offset)));
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr name:
                scope.Set(name.Name, value);
                break;
            case TupleExpr tuple:
                var items = PyOps.Iterate(value);
                if (items.Count != tuple.Items.Count)
                {
                    throw new TemplateRuntimeException(items.Count > tuple.Items.Count
                        ? $"too many values to unpack (expected {tuple.Items.Count})"
                        : $"not enough values to unpack (expected {tuple.Items.Count}, got {items.Count})");
                }

                for (var i = 0; i < items.Count; i++)
                {
                    Assign(tuple.Items[i], items[i], scope);
                }

                break;
            case AttrExpr attr:
                var owner = Evaluate(attr.Target, scope);
                if (owner is not Namespace ns)
                {
                    throw new TemplateRuntimeException("cannot assign attribute on non-namespace object");
                }

                ns.Attributes.Set(attr.Name, value);
                break;
            default:
                throw new TemplateRuntimeException("can't assign to this expression");
        }
    }
}
