namespace Flywheel.Formats.Safetensors;

/// <summary>Element types a safetensors header may name (the "dtype" strings of the safetensors format).</summary>
public enum SafetensorsDType
{
    F32,
    F16,
    BF16,
    I8,
    U8,
    F64,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Bool,
    F8E4M3,
    F8E5M2,
}
