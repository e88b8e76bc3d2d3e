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
            case "*" when left is string s && right is long or bool:
                return Repeat(s, PyOps.ToLong(right));
            case "*" when right is string s && left is long or bool:
                return Repeat(s, PyOps.ToLong(left));
            case "*" when left is List<object?> list && right is long or bool:
                return Enumerable.Repeat(list, (int)Math.Max(0, PyOps.ToLong(right))).SelectMany(x => x).ToList();
            case "%" when left is string format:
                return PyFormat.Percent(format, right);
        }

        var symbol = op;
        throw new TemplateRuntimeException(op == "+" && left is string
            ? $"can only concatenate str (not \"{PyOps.TypeName(right)}\") to str"
            : op == "+" && left is List<object?>
            ? $"can only concatenate list (not \"{PyOps.TypeName(right)}\") to list"
            : $"unsupported operand type(s) for {symbol}: '{PyOps.TypeName(left)}' and '{PyOps.TypeName(right)}'");
    }

    private static string Repeat(string s, long count) =>
        count <= 0 ? "" : string.Concat(Enumerable.Repeat(s, (int)count));

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
                return Math.Pow(x, y);
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
                    throw new TemplateRuntimeException("integer division or modulo by zero");
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
                return b == 0 ? throw new TemplateRuntimeException("integer division or modulo by zero") : a - checked(FloorDiv(a, b) * b);
            case "**":
                return b >= 0 ? (object)IntPow(a, b) : Math.Pow(a, b);
        }

        throw new TemplateRuntimeException($"unknown operator {op}");
    }

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
