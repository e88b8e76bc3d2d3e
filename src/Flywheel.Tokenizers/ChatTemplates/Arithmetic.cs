using System.Numerics;

namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>Python arithmetic on runtime values (int stays int; / is true division; // and % floor).</summary>
internal static class Arithmetic
{
    public static object? Negate(object? value) => value switch
    {
        long l => l == long.MinValue ? -(BigInteger)l : (object)(-l),
        BigInteger big => PyOps.NormalizeInt(-big),
        bool b => b ? -1L : 0L,
        double d => (object)(-d),
        Undefined u => throw new TemplateRuntimeException(u.Message),
        _ => throw new TemplateRuntimeException($"bad operand type for unary -: '{PyOps.TypeName(value)}'"),
    };

    public static object? Positive(object? value) => value switch
    {
        long or double or BigInteger => value,
        bool b => b ? 1L : 0L,
        Undefined u => throw new TemplateRuntimeException(u.Message),
        _ => throw new TemplateRuntimeException($"bad operand type for unary +: '{PyOps.TypeName(value)}'"),
    };

    public static object? Binary(string op, object? left, object? right)
    {
        if (op == "%" && left is string format)
        {
            // str.__mod__ accepts any right operand, jinja2's Undefined included (it looks like a mapping).
            return PyFormat.Percent(format, right);
        }

        if (left is Undefined ul)
        {
            throw new TemplateRuntimeException(ul.Message);
        }

        if (right is Undefined ur)
        {
            throw new TemplateRuntimeException(ur.Message);
        }

        if (PyOps.IsNumber(left) && PyOps.IsNumber(right))
        {
            return Numeric(op, left, right);
        }

        switch (op)
        {
            case "+" when left is string a && right is string b:
                return a + b;
            case "+" when left is List<object?> a && right is List<object?> b:
                return a.Concat(b).ToList();
            case "+" when left is PyTuple a && right is PyTuple b:
                return new PyTuple([.. a.Items, .. b.Items]);
            case "*" when PyOps.IsInt(right) && left is string or List<object?> or PyTuple:
                return RepeatSequence(left, PyOps.ToLong(right));
            case "*" when PyOps.IsInt(left) && right is string or List<object?> or PyTuple:
                return RepeatSequence(right, PyOps.ToLong(left));
        }

        if (op == "*" && (left is string or List<object?> or PyTuple || right is string or List<object?> or PyTuple))
        {
            var other = left is string or List<object?> or PyTuple ? right : left;
            throw new TemplateRuntimeException($"can't multiply sequence by non-int of type '{PyOps.TypeName(other)}'");
        }

        var symbol = op == "**" ? "** or pow()" : op;
        throw new TemplateRuntimeException(op == "+" && left is string
            ? $"can only concatenate str (not \"{PyOps.TypeName(right)}\") to str"
            : op == "+" && left is List<object?>
            ? $"can only concatenate list (not \"{PyOps.TypeName(right)}\") to list"
            : $"unsupported operand type(s) for {symbol}: '{PyOps.TypeName(left)}' and '{PyOps.TypeName(right)}'");
    }

    private static object RepeatSequence(object? sequence, long count)
    {
        var times = (int)Math.Clamp(count, 0, int.MaxValue);
        return sequence switch
        {
            string s => string.Concat(Enumerable.Repeat(s, times)),
            List<object?> list => Enumerable.Repeat(list, times).SelectMany(x => x).ToList(),
            _ => new PyTuple([.. Enumerable.Repeat(((PyTuple)sequence!).Items, times).SelectMany(x => x)]),
        };
    }

    private static object Numeric(string op, object? left, object? right)
    {
        if (left is BigInteger || right is BigInteger)
        {
            if (left is not double && right is not double)
            {
                return BigNumeric(op, PyOps.ToBig(left), PyOps.ToBig(right));
            }
        }
        else if (left is not double && right is not double)
        {
            var a = PyOps.ToLong(left);
            var b = PyOps.ToLong(right);
            try
            {
                return LongNumeric(op, a, b);
            }
            catch (OverflowException)
            {
                // Python ints are unbounded: redo the operation in arbitrary precision.
                return BigNumeric(op, a, b);
            }
        }

        var x = left is double dl ? dl : left is BigInteger bl ? (double)bl : PyOps.ToLong(left);
        var y = right is double dr ? dr : right is BigInteger br ? (double)br : PyOps.ToLong(right);
        switch (op)
        {
            case "+": return x + y;
            case "-": return x - y;
            case "*": return x * y;
            case "/":
                return y == 0 ? throw new TemplateRuntimeException("float division by zero") : x / y;
            case "//":
                return y == 0 ? throw new TemplateRuntimeException("float floor division by zero") : Math.Floor(x / y);
            case "%":
                if (y == 0)
                {
                    throw new TemplateRuntimeException("float modulo");
                }

                var mod = x % y;
                return mod != 0 && (mod < 0) != (y < 0) ? mod + y : mod;
            case "**":
                return FloatPow(x, y);
        }

        throw new TemplateRuntimeException($"unknown operator {op}");
    }

    private static object BigNumeric(string op, BigInteger a, BigInteger b)
    {
        switch (op)
        {
            case "+": return PyOps.NormalizeInt(a + b);
            case "-": return PyOps.NormalizeInt(a - b);
            case "*": return PyOps.NormalizeInt(a * b);
            case "/":
                return b.IsZero ? throw new TemplateRuntimeException("division by zero") : (double)a / (double)b;
            case "//" or "%":
                if (b.IsZero)
                {
                    throw new TemplateRuntimeException(op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
                }

                var q = BigInteger.DivRem(a, b, out var r);
                if (!r.IsZero && (r.Sign < 0) != (b.Sign < 0))
                {
                    q -= 1;
                    r += b;
                }

                return PyOps.NormalizeInt(op == "//" ? q : r);
            case "**":
                return b.Sign >= 0 && b <= 100_000
                    ? PyOps.NormalizeInt(BigInteger.Pow(a, (int)b))
                    : Math.Pow((double)a, (double)b);
        }

        throw new TemplateRuntimeException($"unknown operator {op}");
    }

    private static object LongNumeric(string op, long a, long b)
    {
        switch (op)
        {
            case "+": return checked(a + b);
            case "-": return checked(a - b);
            case "*": return checked(a * b);
            case "/":
                return b == 0 ? throw new TemplateRuntimeException("division by zero") : (double)a / b;
            case "//":
                return b == 0 ? throw new TemplateRuntimeException("integer division or modulo by zero") : FloorDiv(a, b);
            case "%":
                return b == 0 ? throw new TemplateRuntimeException("integer modulo by zero") : a - checked(FloorDiv(a, b) * b);
            case "**":
                return b >= 0 ? (object)IntPow(a, b) : FloatPow(a, b);
        }

        throw new TemplateRuntimeException($"unknown operator {op}");
    }

    private static double FloatPow(double x, double y) =>
        x == 0 && y < 0 ? throw new TemplateRuntimeException("0.0 cannot be raised to a negative power") : Math.Pow(x, y);

    private static long FloorDiv(long a, long b)
    {
        var q = checked(a / b);
        return (a % b != 0) && ((a < 0) != (b < 0)) ? q - 1 : q;
    }

    private static long IntPow(long a, long b)
    {
        long result = 1;
        for (var i = 0; i < b; i++)
        {
            result = checked(result * a);
        }

        return result;
    }
}
