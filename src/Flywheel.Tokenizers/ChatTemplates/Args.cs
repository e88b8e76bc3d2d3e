namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>Binds positional and keyword arguments to a builtin's parameter list, Python style.</summary>
internal static class Args
{
    /// <summary>Marks a parameter without a default.</summary>
    public static readonly object Required = new();

    public static object?[] Bind(string function, List<object?> args, List<KeyValuePair<string, object?>> kwargs, string[] names, object?[] defaults)
    {
        if (args.Count > names.Length)
        {
            throw new TemplateRuntimeException($"{function}() takes at most {names.Length} arguments ({args.Count} given)");
        }

        var result = new object?[names.Length];
        var set = new bool[names.Length];
        for (var i = 0; i < args.Count; i++)
        {
            result[i] = args[i];
            set[i] = true;
        }

        foreach (var (key, value) in kwargs)
        {
            var index = Array.IndexOf(names, key);
            if (index < 0)
            {
                throw new TemplateRuntimeException($"{function}() got an unexpected keyword argument '{key}'");
            }

            if (set[index])
            {
                throw new TemplateRuntimeException($"{function}() got multiple values for argument '{key}'");
            }

            result[index] = value;
            set[index] = true;
        }

        for (var i = 0; i < names.Length; i++)
        {
            if (!set[i])
            {
                if (ReferenceEquals(defaults[i], Required))
                {
                    throw new TemplateRuntimeException($"{function}() missing required argument '{names[i]}'");
                }

                result[i] = defaults[i];
            }
        }

        return result;
    }
}
