namespace Flywheel.Cli.Commands;

/// <summary>The file types <c>flywheel synth</c> writes; values are GGUF's <c>general.file_type</c> (llama_ftype).</summary>
internal enum SynthFileType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 7,
    Q4_K_M = 15,
}
