namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>A {% macro %} closure; calling it renders its body to a string.</summary>
internal sealed class Macro(string name, List<MacroParam> parameters, List<Stmt> body, Scope closure) : ICallable
{
    public string Name { get; } = name;

    public object? Call(Interpreter interpreter, List<object?> args, List<KeyValuePair<string, object?>> kwargs, int offset) =>
        CallWithCaller(interpreter, args, kwargs, caller: null);

    public string CallWithCaller(Interpreter interpreter, List<object?> args, List<KeyValuePair<string, object?>> kwargs, ICallable? caller)
    {
        var scope = new Scope(closure);
        var extraArgs = new List<object?>();
        var extraKwargs = new PyDict();
        var bound = new bool[parameters.Count];
        for (var i = 0; i < args.Count; i++)
        {
            if (i < parameters.Count)
            {
                scope.Set(parameters[i].Name, args[i]);
                bound[i] = true;
            }
            else
            {
                extraArgs.Add(args[i]);
            }
        }

        foreach (var (key, value) in kwargs)
        {
            var index = parameters.FindIndex(p => p.Name == key);
            if (index < 0)
            {
                extraKwargs.Set(key, value);
                continue;
            }

            if (bound[index])
            {
                throw new TemplateRuntimeException($"macro '{Name}' got multiple values for argument '{key}'");
            }

            scope.Set(key, value);
            bound[index] = true;
        }

        for (var i = 0; i < parameters.Count; i++)
        {
            if (!bound[i])
            {
                var p = parameters[i];
                scope.Set(p.Name, p.Default != null ? interpreter.Evaluate(p.Default, scope) : Undefined.ForName(p.Name));
            }
        }

        scope.Set("varargs", new PyTuple([.. extraArgs]));
        scope.Set("kwargs", extraKwargs);
        if (caller != null)
        {
            scope.Set("caller", caller);
        }

        return interpreter.Capture(body, scope);
    }
}
