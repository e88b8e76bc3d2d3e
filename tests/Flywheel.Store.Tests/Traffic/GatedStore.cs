using System.Reflection;
using Flywheel.Store.Traffic;

namespace Flywheel.Store.Tests.Traffic;

/// <summary>A store whose traffic writes wait for <see cref="Gate"/>; everything else passes straight through.</summary>
public class GatedStore : DispatchProxy
{
    public IFlywheelStore Inner { get; private set; } = null!;

    public SemaphoreSlim Gate { get; } = new(0);

    public int WriteCalls;

    public static (IFlywheelStore Store, GatedStore Control) Wrap(IFlywheelStore inner)
    {
        var proxy = DispatchProxy.Create<IFlywheelStore, GatedStore>();
        var control = (GatedStore)(object)proxy;
        control.Inner = inner;
        return (proxy, control);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IFlywheelStore.WriteTrafficAsync))
        {
            Interlocked.Increment(ref WriteCalls);
            return GatedWriteAsync((IReadOnlyList<TrafficRecord>)args![0]!, (CancellationToken)args[1]!);
        }
        try
        {
            return targetMethod.Invoke(Inner, args);
        }
        catch (TargetInvocationException e)
        {
            throw e.InnerException!;
        }
    }

    private async Task GatedWriteAsync(IReadOnlyList<TrafficRecord> records, CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        await Inner.WriteTrafficAsync(records, cancellationToken);
    }
}
