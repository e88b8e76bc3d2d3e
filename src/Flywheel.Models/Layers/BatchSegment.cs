namespace Flywheel.Models.Layers;

/// <summary>
/// One sequence's rows in a batched forward pass: rows [StartRow, StartRow + RowCount) of the batch are that
/// sequence's tokens at positions StartPosition.. . Rows FirstLogitRow..RowCount−1 (relative to the segment) get
/// logits; FirstLogitRow = RowCount asks for none. Segments of one pass name distinct sequences and cover the batch's
/// rows in order.
/// </summary>
public readonly record struct BatchSegment(int Sequence, int StartRow, int RowCount, int StartPosition, int FirstLogitRow)
{
    /// <summary>Rows of this segment that go through the output projection.</summary>
    public int LogitRows => RowCount - FirstLogitRow;
}
