using System.Text;

namespace Flywheel.Tokenizers.Tests;

/// <summary>
/// Hard cases for tokenizers, beyond llama.cpp's own test files: long Chinese text, mixed scripts, code, emoji
/// sequences, unusual whitespace, supplementary-plane letters and 1000-character runs. The golden ids for these
/// come from llama.cpp's llama-tokenize (see Fixtures/llama-tokenize/README.md).
/// </summary>
internal static class TokenizerCorpus
{
    public sealed record Case(string Name, string Text, bool ParseSpecial = false, bool AddSpecial = false);

    private const string Chinese =
        "春天来了，公园里的花都开了。小明和他的朋友们一起去散步，他们看到湖边有很多人在钓鱼，还有孩子们在草地上放风筝。"
        + "中午的时候，大家坐在树下吃饭，一边吃一边聊天。有人说起了去年夏天去海边旅行的事情，那里的海水很清，沙滩也很干净。"
        + "下午天气突然变了，乌云从西边慢慢地飘过来，不一会儿就下起了大雨。他们急忙跑到附近的亭子里躲雨，等雨停了才回家。"
        + "晚上，小明在日记里写道：“今天虽然淋了雨，但是过得非常开心。”机器学习模型需要大量的数据来训练，"
        + "而分词器负责把文本切成一个个的词元（token），每个词元对应词表中的一个编号。";

    public static IReadOnlyList<Case> All { get; } = Build();

    private static List<Case> Build()
    {
        var cases = new List<Case>
        {
            new("chinese-long", string.Concat(Enumerable.Repeat(Chinese, 4))),
            new("chinese-punctuation", "你好，世界！这是一个测试。「引号」『书名』【括号】……——《标题》；：？"),
            new("mixed-scripts",
                "English, Русский текст, العربية لغة جميلة, हिन्दी भाषा, 日本語のテキスト, 한국어 문장, ภาษาไทย, Ελληνικά, "
                + "עברית, Türkçe İstanbul, Tiếng Việt, ქართული, Հայերեն, ትግርኛ, Ǆemal ǅ ǆ"),
            new("code-python",
                "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n"
                + "        a, b = b, a + b\n    return a\n\n\nif __name__ == '__main__':\n\tprint(fib(10))  # 55\n"),
            new("code-csharp",
                "public static int Sum(ReadOnlySpan<int> xs)\r\n{\r\n    int s = 0;\r\n    foreach (var x in xs) { s += x; }\r\n"
                + "    return s; // x => x * 2 && y != null || z >= 0x7FFF_FFFF\r\n}\r\n"),
            new("emoji",
                "👋🏽 Hi! 👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 🇯🇵🇺🇸 flags, 1️⃣ keycap, ❤️‍🔥, 🧑🏿‍💻 coder, 🦙🦙🦙 llamas ✅✔️"),
            new("whitespace-unusual",
                "a\tb\r\nc\u00A0d\u3000e\u2003f\u2028g\u2029h\u0085i\u000Bj\u000Ck \u200Bzero-width\u200D\u00A0\u00A0 \t \n\u3000\u3000x"),
            new("whitespace-edges", "  leading and trailing spaces   \n\n\n   \t\t\n \r\n\r\n  "),
            new("newlines-mixed", "line1\nline2\r\nline3\rline4\n\n\nline5\r\r\n"),
            new("numbers", "0 1 12 123 1234 12345 123456 1234567 3.14159 -2.5e10 1,000,000 ١٢٣ ४५६ ⅫⅣ ½ ²³"),
            new("contractions", "I'm, you're, he'll, she'd, it's, we've, THEY'RE, IT'S, don't, 'quoted' ''double'' rock'n'roll"),
            new("supplementary-letters", "𝐇𝐞𝐥𝐥𝐨 𝑾𝒐𝒓𝒍𝒅 𐐀𐐨𐐹 𠀀𠀁𠀂 𝟏𝟐𝟑 𞤀𞤢 𓀀𓀁"),
            new("combining", "e\u0301 a\u0308 n\u0303 Z\u0351\u0342a\u0310l\u0346g\u0313o \u0915\u094D\u0937 \u0E01\u0E34\u0E4A"),
            new("punctuation-runs", "!!! ??? ... --- ___ *** ### $$$ %%% ^^^ ~~~ ``` ''' \"\"\" ((( ))) [[[ ]]] {{{ }}} <<< >>> |||"),
            new("url-and-email", "https://example.com/path?query=1&b=two#frag mailto:someone@example.org C:\\Users\\test\\file.txt"),
            new("run-a-1000", new string('a', 1000)),
            new("run-space-1000", new string(' ', 1000)),
            new("run-newline-1000", new string('\n', 1000)),
            new("run-chinese-1000", new string('你', 1000)),
            new("run-digit-1000", new string('7', 1000)),
            new("run-bang-1000", new string('!', 1000)),
            new("run-ab-1000", string.Concat(Enumerable.Repeat("ab", 500))),
            new("run-space-then-word", new string(' ', 1000) + "word"),
            new("lone-surrogate", "abc\uD800def\uDC00ghi"),
            new("special-chatml", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n", ParseSpecial: true),
            new("special-chatml-plain", "<|im_start|>user\nhi<|im_end|>", ParseSpecial: false),
            new("special-llama3", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>", ParseSpecial: true),
            new("special-endoftext", "one<|endoftext|>two <|endoftext|> three", ParseSpecial: true),
            new("special-endoftext-plain", "one<|endoftext|>two", ParseSpecial: false),
            new("special-spm", "<s>Hello</s> world <unk>", ParseSpecial: true),
            new("special-think", "<think>\nreasoning here\n</think>\n\nanswer", ParseSpecial: false),
            new("add-bos", "Hello world", AddSpecial: true),
            new("add-bos-chinese", "我想在apple工作", AddSpecial: true),
        };
        cases.Add(new("long-mixed", BuildLongMixed(cases)));
        return cases;
    }

    private static string BuildLongMixed(List<Case> cases)
    {
        var text = new StringBuilder();
        foreach (var c in cases.Where(c => !c.ParseSpecial && !c.Name.StartsWith("run-", StringComparison.Ordinal) && !c.AddSpecial))
        {
            text.Append(c.Text).Append('\n');
        }
        return text.ToString();
    }
}
