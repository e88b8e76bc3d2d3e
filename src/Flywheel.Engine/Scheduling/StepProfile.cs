using System.Diagnostics;
using System.Globalization;

namespace Flywheel.Engine.Scheduling;

/// <summary>
/// Where the scheduler's loop spends its time, for finding what besides the forward pass slows a batch down. Off unless
/// the environment variable <see cref="EnvironmentVariable"/> is a positive step count N; then every N steps one line
/// goes to standard error with the mean per step of: rows, forward pass, sampling, streaming (detokenize, stop strings,
/// channel writes), bookkeeping (admission, planning, cache commits) and the time between steps (the loop idle or
/// yielding). Loop thread only.
/// </summary>
internal sealed class StepProfile
{
    public const string EnvironmentVariable = "FLYWHEEL_PROFILE_STEPS";

    private readonly int _every;
    private long _steps, _rows, _sequences, _forward, _sample, _stream, _bookkeeping, _between;
    private long _stepStart, _lastEnd, _mark;

    private StepProfile(int every) => _every = every;

    /// <summary>A profile when the environment asks for one, else null (and the loop does no timing at all).</summary>
    public static StepProfile? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable(EnvironmentVariable), CultureInfo.InvariantCulture, out var every) && every > 0
            ? new StepProfile(every)
            : null;

    public void BeginStep()
    {
        _stepStart = _mark = Stopwatch.GetTimestamp();
        if (_lastEnd != 0) _between += _stepStart - _lastEnd;
    }

    private long Lap()
    {
        var now = Stopwatch.GetTimestamp();
        var elapsed = now - _mark;
        _mark = now;
        return elapsed;
    }

    public void Bookkeeping() => _bookkeeping += Lap();
    public void Forward() => _forward += Lap();
    public void Sample() => _sample += Lap();
    public void Stream() => _stream += Lap();

    /// <summary>Ends a step that ran a pass of <paramref name="rows"/> rows for <paramref name="sequences"/> sequences.</summary>
    public void EndStep(int rows, int sequences)
    {
        _bookkeeping += Lap();
        _lastEnd = _mark;
        _steps++;
        _rows += rows;
        _sequences += sequences;
        if (_steps % _every != 0) return;
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency / _steps;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"flywheel-batch: {_steps} steps, per step: {(double)_rows / _steps:F1} rows, {(double)_sequences / _steps:F1} sequences, " +
            $"forward {Ms(_forward):F2} ms, sample {Ms(_sample):F2} ms, stream {Ms(_stream):F2} ms, " +
            $"bookkeeping {Ms(_bookkeeping):F2} ms, between steps {Ms(_between):F2} ms"));
        _steps = _rows = _sequences = _forward = _sample = _stream = _bookkeeping = _between = 0;
        _lastEnd = 0;
    }

    /// <summary>Forgets the end of the last step: the loop is going to sleep until work arrives, which is not overhead.</summary>
    public void Idle() => _lastEnd = 0;
}
