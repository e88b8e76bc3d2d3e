namespace Flywheel.Tensors;

/// <summary>
/// Tensor element types, numbered as GGUF stores them (the <c>ggml_type</c> enum in ggml.h).
/// The numbers are part of the file format and must never change.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    // 4 and 5 were Q4_2 and Q4_3, removed from the format.
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    // 31..33 were Q4_0_4_4, Q4_0_4_8 and Q4_0_8_8, removed from the format.
    TQ1_0 = 34,
    TQ2_0 = 35,
    // 36..38 were IQ4_NL_4_4, IQ4_NL_4_8 and IQ4_NL_8_8, removed from the format.
    MXFP4 = 39,
}
