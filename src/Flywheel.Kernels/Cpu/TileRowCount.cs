namespace Flywheel.Kernels.Cpu;

/// <summary>
/// Activation rows per packed-kernel call, a constant of each generic instantiation so the rows a call does not have
/// compile away. Shared by the packed matmuls (the 256-bit ones use R1-R4, the 512-bit one R1-R8).
/// </summary>
internal interface IRows
{
    static abstract int Count { get; }
}

internal readonly struct R1 : IRows { public static int Count => 1; }
internal readonly struct R2 : IRows { public static int Count => 2; }
internal readonly struct R3 : IRows { public static int Count => 3; }
internal readonly struct R4 : IRows { public static int Count => 4; }
internal readonly struct R5 : IRows { public static int Count => 5; }
internal readonly struct R6 : IRows { public static int Count => 6; }
internal readonly struct R7 : IRows { public static int Count => 7; }
internal readonly struct R8 : IRows { public static int Count => 8; }
