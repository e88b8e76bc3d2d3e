using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flywheel.Cli.Commands;

/// <summary>
/// Memory read bandwidth, the ceiling of CPU decoding (each generated token reads every weight once): a streaming read
/// of a buffer far larger than the last-level cache, split into one contiguous slice per thread, with the widest
/// vector loads the CPU has (512-bit, else 256-bit). Each repetition starts all threads at a barrier and ends when the
/// last one finishes; the figure is bytes ÷ that time, in GB/s (10⁹ bytes). Every page is written before timing so
/// page faults are not counted.
/// </summary>
internal static unsafe class BenchBandwidth
{
    public sealed record Result(double MedianGBps, IReadOnlyList<double> RepsGBps, long Bytes, int Threads, int VectorBits);

    private static ulong _sink;

    public static Result Measure(long bytes, int threads, int reps)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var vectorBytes = Vector512.IsHardwareAccelerated ? 64 : 32;
        // Each slice is a whole number of 8-vector groups, so the read loop needs no tail.
        var unit = (long)vectorBytes * 8 * threads;
        bytes = Math.Max(unit, bytes / unit * unit);
        var buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        try
        {
            var slice = bytes / threads;
            var rates = new double[reps];
            using var barrier = new Barrier(threads);
            long start = 0;
            var workers = new Thread[threads];
            for (var t = 0; t < threads; t++)
            {
                var index = t;
                workers[t] = new Thread(() =>
                {
                    var mine = buffer + index * slice;
                    // First touch: fault every page in (and fill with non-zero data) before any timing.
                    for (long done = 0; done < slice; done += 1 << 30)
                    {
                        new Span<byte>(mine + done, (int)Math.Min(slice - done, 1 << 30)).Fill((byte)(index + 1));
                    }
                    ulong sum = 0;
                    for (var r = -1; r < reps; r++) // rep -1 warms up
                    {
                        barrier.SignalAndWait();
                        if (index == 0) start = Stopwatch.GetTimestamp();
                        barrier.SignalAndWait();
                        sum += vectorBytes == 64 ? Read512(mine, slice) : Read256(mine, slice);
                        barrier.SignalAndWait();
                        if (index == 0 && r >= 0)
                        {
                            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                            rates[r] = bytes / seconds / 1e9;
                        }
                    }
                    Interlocked.Add(ref _sink, sum);
                }) { IsBackground = true, Name = $"bandwidth-{index}" };
            }
            foreach (var w in workers) w.Start();
            foreach (var w in workers) w.Join();
            var sorted = rates.Order().ToArray();
            var median = reps % 2 == 1 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
            return new Result(median, rates, bytes, threads, vectorBytes * 8);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    // Eight independent loads per step into four accumulators: enough loads in flight to saturate the memory system,
    // and the XOR result is consumed so the JIT cannot drop the reads.
    private static ulong Read512(byte* p, long length)
    {
        Vector512<ulong> a = default, b = default, c = default, d = default;
        for (var end = p + length; p < end; p += 512)
        {
            a ^= Vector512.LoadAligned((ulong*)p) ^ Vector512.LoadAligned((ulong*)(p + 64));
            b ^= Vector512.LoadAligned((ulong*)(p + 128)) ^ Vector512.LoadAligned((ulong*)(p + 192));
            c ^= Vector512.LoadAligned((ulong*)(p + 256)) ^ Vector512.LoadAligned((ulong*)(p + 320));
            d ^= Vector512.LoadAligned((ulong*)(p + 384)) ^ Vector512.LoadAligned((ulong*)(p + 448));
        }
        return Vector512.Sum(a ^ b ^ c ^ d);
    }

    private static ulong Read256(byte* p, long length)
    {
        Vector256<ulong> a = default, b = default, c = default, d = default;
        for (var end = p + length; p < end; p += 256)
        {
            a ^= Vector256.LoadAligned((ulong*)p) ^ Vector256.LoadAligned((ulong*)(p + 32));
            b ^= Vector256.LoadAligned((ulong*)(p + 64)) ^ Vector256.LoadAligned((ulong*)(p + 96));
            c ^= Vector256.LoadAligned((ulong*)(p + 128)) ^ Vector256.LoadAligned((ulong*)(p + 160));
            d ^= Vector256.LoadAligned((ulong*)(p + 192)) ^ Vector256.LoadAligned((ulong*)(p + 224));
        }
        return Vector256.Sum(a ^ b ^ c ^ d);
    }
}
