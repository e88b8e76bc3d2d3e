namespace Flywheel.Tokenizers.ChatTemplates;

// The template AST. Every node keeps the source offset of its first token for error messages.

internal abstract record Node(int Offset);

internal abstract record Expr(int Offset) : Node(Offset);

internal sealed record ConstExpr(int Offset, object? Value) : Expr(Offset);

internal sealed record NameExpr(int Offset, string Name) : Expr(Offset);

internal sealed record AttrExpr(int Offset, Expr Target, string Name) : Expr(Offset);

internal sealed record ItemExpr(int Offset, Expr Target, Expr Key) : Expr(Offset);

internal sealed record SliceExpr(int Offset, Expr? Start, Expr? Stop, Expr? Step) : Expr(Offset);

internal sealed record CallArgs(List<Expr> Positional, List<KeyValuePair<string, Expr>> Named, Expr? Star, Expr? DoubleStar)
{
    public static readonly CallArgs Empty = new([], [], null, null);
}

internal sealed record CallExpr(int Offset, Expr Target, CallArgs Args) : Expr(Offset);

/// <summary>A filter application; <see cref="Target"/> is null inside a filter block.</summary>
internal sealed record FilterExpr(int Offset, Expr? Target, string Name, CallArgs Args) : Expr(Offset);

internal sealed record TestExpr(int Offset, Expr Target, string Name, CallArgs Args, bool Negated) : Expr(Offset);

internal sealed record UnaryExpr(int Offset, string Op, Expr Operand) : Expr(Offset);

internal sealed record BinaryExpr(int Offset, string Op, Expr Left, Expr Right) : Expr(Offset);

internal sealed record CompareExpr(int Offset, Expr First, List<KeyValuePair<string, Expr>> Rest) : Expr(Offset);

internal sealed record CondExpr(int Offset, Expr Test, Expr Then, Expr? Else) : Expr(Offset);

internal sealed record ListExpr(int Offset, List<Expr> Items) : Expr(Offset);

internal sealed record TupleExpr(int Offset, List<Expr> Items) : Expr(Offset);

internal sealed record DictExpr(int Offset, List<KeyValuePair<Expr, Expr>> Items) : Expr(Offset);

internal abstract record Stmt(int Offset) : Node(Offset);

internal sealed record TextStmt(int Offset, string Text) : Stmt(Offset);

internal sealed record OutputStmt(int Offset, Expr Value) : Stmt(Offset);

internal sealed record IfStmt(int Offset, Expr Test, List<Stmt> Body, List<Stmt> Else) : Stmt(Offset);

internal sealed record ForStmt(int Offset, Expr Target, Expr Iterable, Expr? Filter, List<Stmt> Body, List<Stmt> Else, bool Recursive) : Stmt(Offset);

internal sealed record SetStmt(int Offset, Expr Target, Expr Value) : Stmt(Offset);

internal sealed record SetBlockStmt(int Offset, Expr Target, List<Stmt> Body, FilterExpr? Filter) : Stmt(Offset);

internal sealed record MacroParam(string Name, Expr? Default);

internal sealed record MacroStmt(int Offset, string Name, List<MacroParam> Params, List<Stmt> Body) : Stmt(Offset);

internal sealed record CallBlockStmt(int Offset, CallExpr Call, List<MacroParam> Params, List<Stmt> Body) : Stmt(Offset);

internal sealed record FilterBlockStmt(int Offset, FilterExpr Filter, List<Stmt> Body) : Stmt(Offset);

internal sealed record WithStmt(int Offset, List<KeyValuePair<Expr, Expr>> Assignments, List<Stmt> Body) : Stmt(Offset);

internal sealed record BreakStmt(int Offset) : Stmt(Offset);

internal sealed record ContinueStmt(int Offset) : Stmt(Offset);

/// <summary>{% block name %}: rendered in place (there is no template inheritance here).</summary>
internal sealed record BlockStmt(int Offset, string Name, bool Scoped, List<Stmt> Body) : Stmt(Offset);

/// <summary>transformers' {% generation %} tag: renders its body unchanged.</summary>
internal sealed record GenerationStmt(int Offset, List<Stmt> Body) : Stmt(Offset);
