using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Flywheel.Store.Datasets;

/// <summary>
/// Deterministic train/test split: an example is in the test split when the first 8 bytes of SHA-256 of its key (the
/// record id; for imported examples the messages JSON), read as a fraction of 2^64, are below the test fraction. The
/// same record lands in the same split in every dataset built with the same fraction, so a later, larger dataset
/// never moves an old test example into training.
/// </summary>
public static class SplitAssigner
{
    public static DatasetSplit Assign(string key, double testFraction)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (double.IsNaN(testFraction) || testFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be between 0 and 1");
        }
        ulong bits = BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        double position = bits / 18446744073709551616.0; // 2^64
        return position < testFraction ? DatasetSplit.Test : DatasetSplit.Train;
    }
}
