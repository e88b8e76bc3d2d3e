using Flywheel.Store.Datasets;

namespace Flywheel.Store.Tests.Datasets;

public class NearDuplicatesTests
{
    private static string Chat(string user, string assistant) =>
        System.Text.Json.JsonSerializer.Serialize(new object[] { new { role = "user", content = user }, new { role = "assistant", content = assistant } });

    private const string Long = "Explain how a bounded queue applies backpressure to producers when the consumer falls behind, and why dropping items silently is worse.";
    private const string Answer = "When the queue is full, the producer waits for room instead of adding more work, so memory stays bounded and nothing is lost.";

    [Fact]
    public void Whitespace_and_case_differences_are_exact_duplicates()
    {
        var d = new NearDuplicates();
        Assert.False(d.IsDuplicate(Chat("What is  the capital of France?", "Paris.")));
        Assert.True(d.IsDuplicate(Chat("what is the capital\nof   FRANCE?", "paris.")));
        Assert.False(d.IsDuplicate(Chat("What is the capital of Spain?", "Madrid.")));
    }

    [Fact]
    public void A_one_word_edit_in_a_long_text_is_a_near_duplicate_but_a_different_question_is_not()
    {
        var d = new NearDuplicates();
        Assert.False(d.IsDuplicate(Chat(Long, Answer)));
        var edited = Chat(Long.Replace("silently", "quietly", StringComparison.Ordinal), Answer);
        Assert.True(NearDuplicates.Similarity(Chat(Long, Answer), edited) >= NearDuplicates.Threshold);
        Assert.True(d.IsDuplicate(edited));
        var other = Chat("Explain how a hash table resolves collisions with open addressing, and when it must grow.", Answer);
        Assert.True(NearDuplicates.Similarity(Chat(Long, Answer), other) < NearDuplicates.Threshold);
        Assert.False(d.IsDuplicate(other));
    }

    [Fact]
    public void Short_texts_that_differ_are_kept()
    {
        var d = new NearDuplicates();
        Assert.False(d.IsDuplicate(Chat("1+1?", "2")));
        Assert.False(d.IsDuplicate(Chat("1+2?", "3")));
        Assert.False(d.IsDuplicate(Chat("你好", "你好！")));
        Assert.False(d.IsDuplicate(Chat("再见", "再见！")));
    }

    [Fact]
    public void Many_distinct_examples_are_all_kept()
    {
        var d = new NearDuplicates();
        for (int i = 0; i < 500; i++)
        {
            Assert.False(d.IsDuplicate(Chat($"Question number {i * 7919 % 10007}: what is {i} squared?", $"{i} squared is {i * i}.")), $"example {i}");
        }
    }
}
