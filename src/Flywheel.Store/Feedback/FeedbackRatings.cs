using System.Globalization;

namespace Flywheel.Store.Feedback;

/// <summary>Ratings are normalised to 1..5: "up" counts as 5 and "down" as 1, so filters compare one scale.</summary>
public static class FeedbackRatings
{
    public const int Up = 5;
    public const int Down = 1;

    /// <summary>Parses "up", "down" or an integer 1..5 (as text). False for anything else.</summary>
    public static bool TryParse(string? text, out int rating)
    {
        rating = 0;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "up": rating = Up; return true;
            case "down": rating = Down; return true;
            case { } s when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && IsValid(n):
                rating = n; return true;
            default: return false;
        }
    }

    public static bool IsValid(int rating) => rating is >= 1 and <= 5;
}
