using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests.Traffic;

public class RedactorTests
{
    private static readonly Redactor All = new();

    [Theory]
    [InlineData("Write to jane.doe+news@example.co.uk today.", "Write to [EMAIL] today.")]
    [InlineData("Call +1 (415) 555-0100 or +44 20 7946 0958.", "Call [PHONE] or [PHONE].")]
    [InlineData("Call +8613812345678 now", "Call [PHONE] now")]
    [InlineData("Office: (415) 555-0100, cell 415-555-0199, fax 415.555.0142", "Office: [PHONE], cell [PHONE], fax [PHONE]")]
    [InlineData("SSN 123-45-6789 on file", "SSN [ID] on file")]
    [InlineData("ids 11010519491231002X and 110105194912310021.", "ids [ID] and 110105194912310021.")]
    public void English_text_is_redacted(string input, string expected) => Assert.Equal(expected, All.Redact(input));

    [Theory]
    [InlineData("我的邮箱是zhang.san@qq.com，请联系。", "我的邮箱是[EMAIL]，请联系。")]
    [InlineData("我的手机号是13812345678，谢谢", "我的手机号是[PHONE]，谢谢")]
    [InlineData("电话：138 1234 5678 或 159-8765-4321", "电话：[PHONE] 或 [PHONE]")]
    [InlineData("身份证号11010519491231002X已登记", "身份证号[ID]已登记")]
    [InlineData("身份证号：11010519491231002x。", "身份证号：[ID]。")]
    [InlineData("国际号码+86 138 1234 5678可用", "国际号码[PHONE]可用")]
    public void Chinese_text_is_redacted(string input, string expected) => Assert.Equal(expected, All.Redact(input));

    [Theory]
    [InlineData("In 2024 we shipped 1,234,567 units at $19.99 each; order #4000123 and invoice 20240115.")]
    [InlineData("pi is 3.14159265358979, e is 2.718281828459045, version 10.0.100, port 8080")]
    [InlineData("timestamp 1700000000000 and 12345678901 and 1234567890")]
    [InlineData("An 18-digit number that fails the checksum: 110105194912310022, or 123456789012345678.")]
    [InlineData("2026年1月15日，共销售12345678件商品，金额为98765432.10元，订单号202601150001。")]
    [InlineData("编号12012345678（以12开头，不是手机号），还有电话分机号010-1234")]
    [InlineData("Dates 2024-01-15 and 12-31-2023; score 100-0; range 555-0100; ratio 3:2")]
    [InlineData("SSN-like but never issued: 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000")]
    [InlineData("an @mention, user@localhost and a+b=c")]
    public void Ordinary_numbers_and_text_are_left_alone(string input) => Assert.Equal(input, All.Redact(input));

    [Fact]
    public void Each_kind_can_be_switched_off()
    {
        const string text = "a@b.com 13812345678 11010519491231002X";
        Assert.Equal("[EMAIL] [PHONE] [ID]", All.Redact(text));
        Assert.Equal("a@b.com [PHONE] [ID]", new Redactor(new RedactionOptions(Emails: false)).Redact(text));
        Assert.Equal("[EMAIL] 13812345678 [ID]", new Redactor(new RedactionOptions(PhoneNumbers: false)).Redact(text));
        Assert.Equal("[EMAIL] [PHONE] 11010519491231002X", new Redactor(new RedactionOptions(IdentityNumbers: false)).Redact(text));
    }

    [Theory]
    [InlineData("11010519491231002X", true)]
    [InlineData("110105194912310021", false)]
    [InlineData("440524188001010014", true)]
    [InlineData("44052418800101001", false)]
    [InlineData("4405241880010100A4", false)]
    public void Chinese_id_checksum_is_iso_7064_mod_11_2(string id, bool valid) => Assert.Equal(valid, Redactor.IsValidChineseId(id));

    [Fact]
    public void Json_stays_valid_and_only_string_values_change()
    {
        const string json = """[{"role":"user","content":"我是 zhang@example.cn，电话13812345678","n":13812345678},{"role":"assistant","content":null,"tool_calls":[{"function":{"arguments":"{\"email\":\"x@y.org\"}"}}]}]""";
        string redacted = All.RedactJson(json)!;
        using var doc = System.Text.Json.JsonDocument.Parse(redacted);
        Assert.Equal("我是 [EMAIL]，电话[PHONE]", doc.RootElement[0].GetProperty("content").GetString());
        Assert.Equal(13812345678, doc.RootElement[0].GetProperty("n").GetInt64());
        Assert.Equal("""{"email":"[EMAIL]"}""", doc.RootElement[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
        const string clean = """[{"role":"user","content":"hello"}]""";
        Assert.Same(clean, All.RedactJson(clean));
        Assert.Equal("\"[EMAIL]\"", All.RedactJson("\"a@b.com\""));
        Assert.Equal("not json a@b.com".Replace("a@b.com", "[EMAIL]", StringComparison.Ordinal), All.RedactJson("not json a@b.com"));
    }

    [Fact]
    public void Feedback_corrections_and_comments_are_redacted()
    {
        var text = All.Redact(new Flywheel.Store.Feedback.FeedbackInput("chatcmpl-1", 5, Flywheel.Store.Feedback.Correction.FromText("Call 13812345678"), "from a@b.com"));
        Assert.Equal(("Call [PHONE]", "from [EMAIL]", 5), (text.Correction!.Text, text.Comment, text.Rating));
        var messages = All.Redact(new Flywheel.Store.Feedback.FeedbackInput("chatcmpl-1", Correction: Flywheel.Store.Feedback.Correction.FromMessages("""[{"role":"assistant","content":"SSN 123-45-6789"}]""")));
        Assert.Equal("""[{"role":"assistant","content":"SSN [ID]"}]""", messages.Correction!.MessagesJson);
        Assert.Null(messages.Comment);
    }
}
