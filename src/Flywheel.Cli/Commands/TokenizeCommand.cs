using System.CommandLine;
using System.Globalization;
using System.Text;
using Flywheel.Tokenizers;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel tokenize --model PATH (--text TEXT | --text-file FILE) [--special] [--ids]</c>: tokenizes text with
/// a model's tokenizer (a GGUF file, or a Hugging Face folder / tokenizer.json) and prints the ids, without
/// adding BOS/EOS. <c>--ids</c> prints one array on one line, <c>[id, id, ...]</c> (as llama.cpp's
/// llama-tokenize --ids does, so outputs can be compared directly); otherwise one <c>id -> 'piece'</c> per line.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "A GGUF file, or a Hugging Face model folder (or its tokenizer.json).",
            Required = true,
        };
        var text = new Option<string>("--text") { Description = "The text to tokenize." };
        var textFile = new Option<string>("--text-file") { Description = "A UTF-8 file whose exact contents to tokenize." };
        var special = new Option<bool>("--special") { Description = "Read special-token text (e.g. <|im_start|>) as the special token." };
        var ids = new Option<bool>("--ids") { Description = "Print only the ids, as one array on one line." };

        var command = new Command("tokenize", "Tokenize text and print the token ids.");
        command.Options.Add(model);
        command.Options.Add(text);
        command.Options.Add(textFile);
        command.Options.Add(special);
        command.Options.Add(ids);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string output = Run(parse.GetValue(model)!, parse.GetValue(text), parse.GetValue(textFile), parse.GetValue(special), parse.GetValue(ids));
            var stdout = Console.OpenStandardOutput();
            stdout.Write(Encoding.UTF8.GetBytes(output));
            stdout.Flush();
            return 0;
        }));
        return command;
    }

    internal static string Run(string modelPath, string? text, string? textFile, bool parseSpecial, bool idsOnly)
    {
        if ((text is null) == (textFile is null))
        {
            throw new CliUsageException("give exactly one of --text TEXT or --text-file FILE");
        }
        string input = text ?? Encoding.UTF8.GetString(File.ReadAllBytes(textFile!));

        Tokenizer tokenizer;
        try
        {
            tokenizer = TokenizerLoader.FromPath(modelPath);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidDataException)
        {
            throw new CliUsageException($"{modelPath}: {e.Message}");
        }

        var tokens = tokenizer.Encode(input, addSpecial: false, parseSpecial: parseSpecial);
        var output = new StringBuilder();
        if (idsOnly)
        {
            output.Append('[').AppendJoin(", ", tokens).Append("]\n");
            return output.ToString();
        }
        foreach (int id in tokens)
        {
            output.Append(id.ToString(CultureInfo.InvariantCulture).PadLeft(6)).Append(" -> '")
                .Append(Encoding.UTF8.GetString(tokenizer.TokenBytes(id))).Append("'\n");
        }
        return output.ToString();
    }
}
