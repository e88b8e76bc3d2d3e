namespace Flywheel.Engine.Constraints;

/// <summary>
/// A JSON number being read (RFC 8259 grammar). Digits are bounded (<see cref="MaxIntegerDigits"/>,
/// <see cref="MaxFractionDigits"/>, <see cref="MaxExponentDigits"/>) so a number always ends.
/// Integers (schema type integer) take no fraction or exponent.
/// </summary>
internal sealed class NumberFrame(NumberFrame.Phase phase, int digits, bool integerOnly) : MatchFrame
{
    public const int MaxIntegerDigits = 16;
    public const int MaxFractionDigits = 16;
    public const int MaxExponentDigits = 3;

    public enum Phase { Minus, Zero, Integer, Dot, Fraction, Exponent, ExponentSign, ExponentDigits }

    public static NumberFrame Begin(byte b, bool integerOnly) => b switch
    {
        (byte)'-' => new NumberFrame(Phase.Minus, 0, integerOnly),
        (byte)'0' => new NumberFrame(Phase.Zero, 1, integerOnly),
        _ => new NumberFrame(Phase.Integer, 1, integerOnly),
    };

    /// <summary>A digit where one is missing (after a minus, a dot, an exponent or its sign); else nothing.</summary>
    public override int RemainingBytes => CanEnd ? 0 : 1;

    public override bool CanEnd => phase is Phase.Zero or Phase.Integer or Phase.Fraction or Phase.ExponentDigits;

    public override void Step(MatchStack self, byte b, List<MatchStack> output)
    {
        if (Next(b) is { } next) output.Add(self.Rest!.Push(next));
        else if (CanEnd) EndThenStep(self, b, output);
    }

    private NumberFrame? Next(byte b)
    {
        var digit = b is >= (byte)'0' and <= (byte)'9';
        switch (phase)
        {
            case Phase.Minus:
                return b == (byte)'0' ? new(Phase.Zero, 1, integerOnly) : digit ? new(Phase.Integer, 1, integerOnly) : null;
            case Phase.Zero or Phase.Integer:
                if (digit) return phase == Phase.Integer && digits < MaxIntegerDigits ? new(Phase.Integer, digits + 1, integerOnly) : null;
                if (integerOnly) return null;
                return b == (byte)'.' ? new(Phase.Dot, 0, false) : b is (byte)'e' or (byte)'E' ? new(Phase.Exponent, 0, false) : null;
            case Phase.Dot:
                return digit ? new(Phase.Fraction, 1, false) : null;
            case Phase.Fraction:
                if (digit) return digits < MaxFractionDigits ? new(Phase.Fraction, digits + 1, false) : null;
                return b is (byte)'e' or (byte)'E' ? new(Phase.Exponent, 0, false) : null;
            case Phase.Exponent:
                return b is (byte)'+' or (byte)'-' ? new(Phase.ExponentSign, 0, false) : digit ? new(Phase.ExponentDigits, 1, false) : null;
            case Phase.ExponentSign:
                return digit ? new(Phase.ExponentDigits, 1, false) : null;
            default:
                return digit && digits < MaxExponentDigits ? new(Phase.ExponentDigits, digits + 1, false) : null;
        }
    }
}
