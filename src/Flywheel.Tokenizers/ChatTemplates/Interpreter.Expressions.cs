using System.Runtime.CompilerServices;

namespace Flywheel.Tokenizers.ChatTemplates;

internal sealed partial class Interpreter
{
    public object? Evaluate(Expr expr, Scope scope)
    {
        try
        {
            RuntimeHelpers.EnsureSufficientExecutionStack();
            return EvaluateCore(expr, scope);
        }
        catch (TemplateRuntimeException e) when (e.Data["offset"] is null)
        {
            e.Data["offset"] = expr.Offset;
            throw;
        }
        catch (InvalidOperationException e) when (e.InnerException is TemplateRuntimeException inner)
        {
            // A comparison failed inside a .NET sort; surface the Python error.
            inner.Data["offset"] ??= expr.Offset;
            throw inner;
        }
        catch (Exception e) when (IsHostFailure(e))
        {
            throw Translate(e, expr.Offset);
        }
    }

    // .NET exceptions that mean "this operation is invalid for these values" rather than a bug in the host.
    private static bool IsHostFailure(Exception e) =>
        e is InvalidCastException or IndexOutOfRangeException or ArgumentException or OverflowException
            or FormatException or KeyNotFoundException or InsufficientExecutionStackException;

    private static TemplateRuntimeException Translate(Exception e, int offset)
    {
        var message = e switch
        {
            InsufficientExecutionStackException => "maximum recursion depth exceeded",
            OverflowException => "integer overflow (template integers are 64-bit)",
            ArgumentOutOfRangeException or IndexOutOfRangeException => "missing or out-of-range argument",
            _ => e.Message,
        };
        var translated = new TemplateRuntimeException(message);
        translated.Data["offset"] = offset;
        return translated;
    }

    private object? EvaluateCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr name:
                return Lookup(name.Name, scope);
            case AttrExpr attr:
                return Members.GetAttr(Evaluate(attr.Target, scope), attr.Name);
            case ItemExpr item:
                var target = Evaluate(item.Target, scope);
                if (item.Key is SliceExpr slice)
                {
                    // jinja2 compiles slices to plain Python subscripts (a TypeError on non-sequences), but a
                    // {{ }} whose whole expression is constant is folded through its getitem: undefined instead.
                    return Members.Slice(
                        target,
                        EvaluateOptional(slice.Start, scope),
                        EvaluateOptional(slice.Stop, scope),
                        EvaluateOptional(slice.Step, scope),
                        undefinedOnFailure: _folding);
                }

                return Members.GetItem(target, Evaluate(item.Key, scope));
            case CallExpr call:
                var callee = Evaluate(call.Target, scope);
                var (args, kwargs) = EvaluateArgs(call.Args, scope);
                return Invoke(callee, args, kwargs, call.Offset);
            case FilterExpr filter:
                return ApplyFilterChain(filter, null, scope);
            case TestExpr test:
                var value = Evaluate(test.Target, scope);
                var (testArgs, testKwargs) = EvaluateArgs(test.Args, scope);
                var passed = Tests.Apply(test.Name, value, testArgs, testKwargs, this);
                return test.Negated ? !passed : passed;
            case UnaryExpr unary:
                var operand = Evaluate(unary.Operand, scope);
                return unary.Op switch
                {
                    "not" => !PyOps.IsTruthy(operand),
                    "-" => Arithmetic.Negate(operand),
                    _ => Arithmetic.Positive(operand),
                };
            case BinaryExpr binary:
                return EvaluateBinary(binary, scope);
            case CompareExpr compare:
                return EvaluateCompare(compare, scope);
            case CondExpr cond:
                if (PyOps.IsTruthy(Evaluate(cond.Test, scope)))
                {
                    return Evaluate(cond.Then, scope);
                }

                if (cond.Else != null)
                {
                    return Evaluate(cond.Else, scope);
                }

                var (line, _) = _source.Position(cond.Offset);
                return Undefined.WithHint($"the inline if-expression on line {line} evaluated to false and no else section was defined.");
            case ListExpr list:
                return list.Items.Select(x => Evaluate(x, scope)).ToList();
            case TupleExpr tuple:
                return new PyTuple([.. tuple.Items.Select(x => Evaluate(x, scope))]);
            case DictExpr dict:
                var result = new PyDict();
                foreach (var (k, v) in dict.Items)
                {
                    result.Set(Evaluate(k, scope), Evaluate(v, scope));
                }

                return result;
            case SliceExpr:
                throw new TemplateRuntimeException("slice outside of a subscript");
            default:
                throw new InvalidOperationException($"unknown expression {expr.GetType().Name}");
        }
    }

    // Whether jinja2 would fold this expression to a constant when compiling a {{ }} tag. Filters that
    // take the render context (map, select, ...) and calls are never folded.
    private static bool IsConstant(Expr? expr) => expr switch
    {
        null or ConstExpr => true,
        ListExpr l => l.Items.All(IsConstant),
        TupleExpr t => t.Items.All(IsConstant),
        DictExpr d => d.Items.All(kv => IsConstant(kv.Key) && IsConstant(kv.Value)),
        UnaryExpr u => IsConstant(u.Operand),
        BinaryExpr b => IsConstant(b.Left) && IsConstant(b.Right),
        CompareExpr c => IsConstant(c.First) && c.Rest.All(kv => IsConstant(kv.Value)),
        CondExpr c => IsConstant(c.Test) && (IsConstant(c.Then) || IsConstant(c.Else)),
        FilterExpr f => f.Target != null && IsConstant(f.Target) && ConstantArgs(f.Args)
            && f.Name is not ("map" or "select" or "reject" or "selectattr" or "rejectattr"),
        TestExpr t => IsConstant(t.Target) && ConstantArgs(t.Args),
        ItemExpr i => IsConstant(i.Target) && IsConstant(i.Key),
        SliceExpr s => IsConstant(s.Start) && IsConstant(s.Stop) && IsConstant(s.Step),
        AttrExpr a => IsConstant(a.Target),
        _ => false,
    };

    private static bool ConstantArgs(CallArgs args) =>
        args.Positional.All(IsConstant) && args.Named.All(kv => IsConstant(kv.Value)) && args.Star == null && args.DoubleStar == null;

    private object? EvaluateOptional(Expr? expr, Scope scope) => expr == null ? null : Evaluate(expr, scope);

    private object? Lookup(string name, Scope scope)
    {
        if (scope.TryGet(name, out var value))
        {
            return value;
        }

        return Globals.TryGet(name, out var global) ? global : Undefined.ForName(name);
    }

    public (List<object?> Args, List<KeyValuePair<string, object?>> Kwargs) EvaluateArgs(CallArgs args, Scope scope)
    {
        var positional = args.Positional.Select(x => Evaluate(x, scope)).ToList();
        var named = args.Named.Select(kv => new KeyValuePair<string, object?>(kv.Key, Evaluate(kv.Value, scope))).ToList();
        if (args.Star != null)
        {
            positional.AddRange(PyOps.Iterate(Evaluate(args.Star, scope)));
        }

        if (args.DoubleStar != null)
        {
            if (Evaluate(args.DoubleStar, scope) is not PyDict extra)
            {
                throw new TemplateRuntimeException("argument after ** must be a mapping");
            }

            named.AddRange(extra.Items.Select(kv => new KeyValuePair<string, object?>(PyOps.Str(kv.Key), kv.Value)));
        }

        return (positional, named);
    }

    public object? Invoke(object? callee, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int offset) => callee switch
    {
        ICallable callable => callable.Call(this, args, kwargs, offset),
        Undefined undefined => throw new TemplateRuntimeException(undefined.Message),
        _ => throw new TemplateRuntimeException($"'{PyOps.TypeName(callee)}' object is not callable"),
    };

    private object? EvaluateBinary(BinaryExpr binary, Scope scope)
    {
        var left = Evaluate(binary.Left, scope);
        switch (binary.Op)
        {
            case "and":
                return PyOps.IsTruthy(left) ? Evaluate(binary.Right, scope) : left;
            case "or":
                return PyOps.IsTruthy(left) ? left : Evaluate(binary.Right, scope);
        }

        var right = Evaluate(binary.Right, scope);
        return binary.Op switch
        {
            "~" => PyOps.Str(left) + PyOps.Str(right),
            _ => Arithmetic.Binary(binary.Op, left, right),
        };
    }

    private object? EvaluateCompare(CompareExpr compare, Scope scope)
    {
        var left = Evaluate(compare.First, scope);
        foreach (var (op, rightExpr) in compare.Rest)
        {
            var right = Evaluate(rightExpr, scope);
            var ok = op switch
            {
                "==" => PyOps.Equal(left, right),
                "!=" => !PyOps.Equal(left, right),
                "in" => PyOps.Contains(right, left),
                "notin" => !PyOps.Contains(right, left),
                "<" => PyOps.Compare(CheckDefined(left), CheckDefined(right), op) == -1,
                ">" => PyOps.Compare(CheckDefined(left), CheckDefined(right), op) == 1,
                "<=" => PyOps.Compare(CheckDefined(left), CheckDefined(right), op) is -1 or 0,
                _ => PyOps.Compare(CheckDefined(left), CheckDefined(right), op) is 1 or 0,
            };
            if (!ok)
            {
                return false;
            }

            left = right;
        }

        return true;
    }

    private static object? CheckDefined(object? value) =>
        value is Undefined u ? throw new TemplateRuntimeException(u.Message) : value;

    private object? ApplyFilterChain(FilterExpr filter, object? input, Scope scope)
    {
        var value = filter.Target == null ? input
            : filter.Target is FilterExpr inner && ContainsNullTarget(inner) ? ApplyFilterChain(inner, input, scope)
            : Evaluate(filter.Target, scope);
        var (args, kwargs) = EvaluateArgs(filter.Args, scope);
        try
        {
            return Filters.Apply(filter.Name, value, args, kwargs, this);
        }
        catch (TemplateRuntimeException e) when (e.Data["offset"] is null)
        {
            e.Data["offset"] = filter.Offset;
            throw;
        }
    }

    private static bool ContainsNullTarget(FilterExpr filter) =>
        filter.Target == null || (filter.Target is FilterExpr inner && ContainsNullTarget(inner));
}
