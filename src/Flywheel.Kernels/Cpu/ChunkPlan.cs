using System.Runtime.CompilerServices;

namespace Flywheel.Kernels.Cpu;

/// <summary>
/// How a kernel splits <see cref="Count"/> items (weight groups) into chunks for the <see cref="KernelThreadPool"/>:
/// optionally <see cref="HeadChunks"/> long chunks of <see cref="HeadSize"/> items first, then chunks of
/// <see cref="TailSize"/>. The pool hands out chunks in index order, so each thread starts on one long run.
/// <para>
/// Why a head: a decode step's matmul streams its weights from DRAM, and every chunk starts a new stream that the
/// software and hardware prefetchers must first catch up with. On the Q4_0 bench file with 2 threads, a run of 90 % of
/// the groups per thread and then chunks of a quarter of the rest decoded 1.03-1.05x faster than four equal chunks per
/// thread (medians of rounds alternating A B B A); one chunk per thread was no faster than 90 %, and leaves a thread the
/// OS delays with no one to take over its work, which the short tail chunks do.
/// </para>
/// </summary>
internal readonly struct ChunkPlan
{
    public readonly int Count;
    public readonly int HeadChunks;
    public readonly int HeadSize;
    public readonly int TailSize;

    private ChunkPlan(int count, int headChunks, int headSize, int tailSize)
    {
        Count = count;
        HeadChunks = headChunks;
        HeadSize = headSize;
        TailSize = Math.Max(1, tailSize);
    }

    /// <summary>Share of a decode matmul's weight groups taken in one long run per thread.</summary>
    public const double DecodeHeadShare = 0.9;

    /// <summary>Packed weight bytes a thread keeps in L2 while several activation tiles pass over them.</summary>
    public const int L2ChunkBytes = 192 * 1024;

    /// <summary>
    /// The chunking of a packed matmul's weight groups for <paramref name="threads"/> threads. A single tile of
    /// activation rows (decode) reads each weight once: a long run per thread, then short chunks. Several tiles re-read
    /// the weights: chunks small enough to stay in L2 while the tiles pass, and enough of them to balance.
    /// </summary>
    public static ChunkPlan ForPackedMatMul(int groups, long groupBytes, int rows, int tileRows, int threads)
    {
        if (rows <= tileRows) return HeadAndTail(groups, threads, DecodeHeadShare, 4);
        var byBalance = Math.Max(1, (groups + threads * 4 - 1) / (threads * 4));
        var byBytes = (int)Math.Max(1, L2ChunkBytes / groupBytes);
        return Uniform(groups, Math.Min(byBalance, byBytes));
    }

    /// <summary>Chunks of <paramref name="perChunk"/> items each.</summary>
    public static ChunkPlan Uniform(int count, int perChunk) => new(count, 0, 0, perChunk);

    /// <summary>
    /// <paramref name="headShare"/> of the items in one long chunk per thread, the rest in chunks of about
    /// 1 / <paramref name="tailPerThread"/> of a thread's remaining share.
    /// </summary>
    public static ChunkPlan HeadAndTail(int count, int threads, double headShare, int tailPerThread)
    {
        if (threads <= 1 || count < threads * 2) return Uniform(count, Math.Max(1, (count + threads - 1) / threads));
        var head = (int)(count * headShare / threads);
        if (head < 1) return Uniform(count, Math.Max(1, (count + threads * tailPerThread - 1) / (threads * tailPerThread)));
        var tail = count - head * threads;
        return new ChunkPlan(count, threads, head, (tail + threads * tailPerThread - 1) / (threads * tailPerThread));
    }

    public int Chunks => HeadChunks + (Count - HeadChunks * HeadSize + TailSize - 1) / TailSize;

    /// <summary>Items [from, to) of chunk <paramref name="chunk"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (int From, int To) Range(int chunk)
    {
        if (chunk < HeadChunks) return (chunk * HeadSize, (chunk + 1) * HeadSize);
        var from = HeadChunks * HeadSize + (chunk - HeadChunks) * TailSize;
        return (from, Math.Min(Count, from + TailSize));
    }
}
