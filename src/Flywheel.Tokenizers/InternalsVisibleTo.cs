using System.Runtime.CompilerServices;

// Tests check the regex translation and pre-tokenizer families directly.
[assembly: InternalsVisibleTo("Flywheel.Tokenizers.Tests")]
