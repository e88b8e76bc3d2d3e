namespace Flywheel.Kernels;

/// <summary>The operations a <see cref="IKernelSet"/> provides; used with <see cref="IKernelSet.Supports"/>.</summary>
public enum KernelOp
{
    MatMul,
    GetRows,
    RmsNorm,
    Rope,
    Softmax,
    SwiGlu,
    Attention,
}
