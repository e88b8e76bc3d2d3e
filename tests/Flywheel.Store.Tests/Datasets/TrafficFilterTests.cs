using Flywheel.Store.Datasets;
using Flywheel.Store.Feedback;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests.Datasets;

public class TrafficFilterTests
{
    private static CapturedExchange Exchange(int? rating = null, bool corrected = false, TrafficKind kind = TrafficKind.Chat, string model = "qwen", string? adapter = null) =>
        new(new TrafficRecord
        {
            Id = TrafficIds.New(kind), Tenant = "acme", Kind = kind, Model = model, Adapter = adapter,
            RequestJson = "[]", CreatedAt = DateTimeOffset.UnixEpoch,
        }, rating, corrected ? Correction.FromText("right") : null);

    [Theory]
    [InlineData("rating >= 4 or corrected", 5, false, true)]
    [InlineData("rating >= 4 or corrected", 3, false, false)]
    [InlineData("rating >= 4 or corrected", null, true, true)]
    [InlineData("rating >= 4 or corrected", null, false, false)]
    [InlineData("rating = up", 5, false, true)]
    [InlineData("rating == down", 1, false, true)]
    [InlineData("rating != 3", 4, false, true)]
    [InlineData("rating != 3", null, false, false)]
    [InlineData("rating < 3", 2, false, true)]
    [InlineData("rating <= 2", 3, false, false)]
    [InlineData("rating > 4", 5, false, true)]
    [InlineData("not rating >= 4", null, false, true)]
    [InlineData("NOT (rating >= 4 OR corrected)", 5, false, false)]
    [InlineData("corrected and not rating = down", 2, true, true)]
    [InlineData("corrected and not rating = down", 1, true, false)]
    [InlineData("not not corrected", null, true, true)]
    public void Ratings_and_corrections(string expression, int? rating, bool corrected, bool expected) =>
        Assert.Equal(expected, TrafficFilter.Parse(expression).Matches(Exchange(rating, corrected)));

    [Fact]
    public void Kind_model_and_adapter()
    {
        var chat = Exchange(kind: TrafficKind.Chat, model: "qwen2.5-0.5b", adapter: "support-v1");
        var completion = Exchange(kind: TrafficKind.Completion, model: "smollm2");
        Assert.True(TrafficFilter.Parse("kind = chat").Matches(chat));
        Assert.False(TrafficFilter.Parse("kind = chat").Matches(completion));
        Assert.True(TrafficFilter.Parse("kind != chat").Matches(completion));
        Assert.True(TrafficFilter.Parse("model = 'qwen2.5-0.5b'").Matches(chat));
        Assert.True(TrafficFilter.Parse("model = \"qwen2.5-0.5b\"").Matches(chat));
        Assert.True(TrafficFilter.Parse("model = qwen2.5-0.5b").Matches(chat));
        Assert.False(TrafficFilter.Parse("model = 'Qwen2.5-0.5b'").Matches(chat));
        Assert.True(TrafficFilter.Parse("adapter = support-v1 and kind = chat").Matches(chat));
        Assert.True(TrafficFilter.Parse("adapter = none").Matches(completion));
        Assert.False(TrafficFilter.Parse("adapter = none").Matches(chat));
        Assert.True(TrafficFilter.Parse("(kind = chat and model = 'x') or (kind = completion and model = smollm2)").Matches(completion));
        // and binds tighter than or
        Assert.True(TrafficFilter.Parse("kind = completion or kind = chat and model = nothing").Matches(completion));
    }

    [Theory]
    [InlineData("rating >= ", 11, "expected a rating after '>='")]
    [InlineData("rating >>= 4", 9, "expected a rating after '>', found '>='")]
    [InlineData("rating >= 6", 11, "a rating is compared with 1 to 5, up or down")]
    [InlineData("rating 4", 8, "expected a comparison")]
    [InlineData("rating >= 4 or", 15, "expected a condition")]
    [InlineData("(rating >= 4 or corrected", 26, "missing ')'")]
    [InlineData("rating >= 4)", 12, "unmatched ')'")]
    [InlineData("score > 3", 1, "unknown condition 'score'")]
    [InlineData("kind = robot", 8, "kind is chat or completion")]
    [InlineData("model > 'x'", 7, "model is compared with = or !=")]
    [InlineData("model = 'x", 9, "unterminated string")]
    [InlineData("corrected & rating > 3", 11, "unexpected character '&'")]
    [InlineData("rating ! 3", 8, "'!' must be followed by '='")]
    [InlineData("corrected corrected", 11, "expected 'and', 'or' or the end")]
    [InlineData("   ", 1, "the expression is empty")]
    public void Bad_expressions_name_the_position(string expression, int position, string problem)
    {
        var e = Assert.Throws<FilterSyntaxException>(() => TrafficFilter.Parse(expression));
        Assert.Equal(position, e.Position);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.Contains($"at position {position}", e.Message, StringComparison.Ordinal);
    }
}
