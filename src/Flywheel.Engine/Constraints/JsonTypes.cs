namespace Flywheel.Engine.Constraints;

/// <summary>The JSON types a schema allows.</summary>
[Flags]
internal enum JsonTypes
{
    None = 0,
    Object = 1,
    Array = 2,
    String = 4,
    Number = 8,
    Integer = 16,
    Boolean = 32,
    Null = 64,
    All = Object | Array | String | Number | Integer | Boolean | Null,
}
