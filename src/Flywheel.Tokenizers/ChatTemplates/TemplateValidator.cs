namespace Flywheel.Tokenizers.ChatTemplates;

/// <summary>
/// Parse-time checks jinja2's compiler makes: unknown filters and tests are errors when the template is
/// loaded, except inside an if-branch, where jinja2 defers the error until the branch runs.
/// </summary>
internal static class TemplateValidator
{
    public static void Validate(SourceText source, List<Stmt> body) => Walk(source, body, insideIf: false);

    private static void Walk(SourceText source, IEnumerable<Stmt> body, bool insideIf)
    {
        foreach (var stmt in body)
        {
            switch (stmt)
            {
                case OutputStmt s:
                    Check(source, s.Value, insideIf);
                    break;
                case IfStmt s:
                    Check(source, s.Test, insideIf);
                    Walk(source, s.Body, true);
                    Walk(source, s.Else, true);
                    break;
                case ForStmt s:
                    Check(source, s.Iterable, insideIf);
                    if (s.Filter != null)
                    {
                        Check(source, s.Filter, insideIf);
                    }

                    Walk(source, s.Body, insideIf);
                    Walk(source, s.Else, insideIf);
                    break;
                case SetStmt s:
                    Check(source, s.Value, insideIf);
                    break;
                case SetBlockStmt s:
                    if (s.Filter != null)
                    {
                        Check(source, s.Filter, insideIf);
                    }

                    Walk(source, s.Body, insideIf);
                    break;
                case MacroStmt s:
                    foreach (var p in s.Params.Where(p => p.Default != null))
                    {
                        Check(source, p.Default!, insideIf);
                    }

                    Walk(source, s.Body, insideIf);
                    break;
                case CallBlockStmt s:
                    Check(source, s.Call, insideIf);
                    Walk(source, s.Body, insideIf);
                    break;
                case FilterBlockStmt s:
                    Check(source, s.Filter, insideIf);
                    Walk(source, s.Body, insideIf);
                    break;
                case WithStmt s:
                    foreach (var (_, value) in s.Assignments)
                    {
                        Check(source, value, insideIf);
                    }

                    Walk(source, s.Body, insideIf);
                    break;
                case GenerationStmt s:
                    Walk(source, s.Body, insideIf);
                    break;
                case BlockStmt s:
                    Walk(source, s.Body, insideIf);
                    break;
            }
        }
    }

    private static void Check(SourceText source, Expr? expr, bool insideIf)
    {
        switch (expr)
        {
            case null:
                return;
            case FilterExpr f:
                if (!insideIf && !Filters.Exists(f.Name))
                {
                    throw source.Error($"No filter named '{f.Name}'.", f.Offset);
                }

                Check(source, f.Target, insideIf);
                CheckArgs(source, f.Args, insideIf);
                return;
            case TestExpr t:
                if (!insideIf && !Tests.Exists(t.Name))
                {
                    throw source.Error($"No test named '{t.Name}'.", t.Offset);
                }

                Check(source, t.Target, insideIf);
                CheckArgs(source, t.Args, insideIf);
                return;
            case AttrExpr a:
                Check(source, a.Target, insideIf);
                return;
            case ItemExpr i:
                Check(source, i.Target, insideIf);
                Check(source, i.Key, insideIf);
                return;
            case SliceExpr s:
                Check(source, s.Start, insideIf);
                Check(source, s.Stop, insideIf);
                Check(source, s.Step, insideIf);
                return;
            case CallExpr c:
                Check(source, c.Target, insideIf);
                CheckArgs(source, c.Args, insideIf);
                return;
            case UnaryExpr u:
                Check(source, u.Operand, insideIf);
                return;
            case BinaryExpr b:
                Check(source, b.Left, insideIf);
                Check(source, b.Right, insideIf);
                return;
            case CompareExpr c:
                Check(source, c.First, insideIf);
                foreach (var (_, e) in c.Rest)
                {
                    Check(source, e, insideIf);
                }

                return;
            case CondExpr c:
                Check(source, c.Test, insideIf);
                Check(source, c.Then, insideIf);
                Check(source, c.Else, insideIf);
                return;
            case ListExpr l:
                l.Items.ForEach(e => Check(source, e, insideIf));
                return;
            case TupleExpr t:
                t.Items.ForEach(e => Check(source, e, insideIf));
                return;
            case DictExpr d:
                foreach (var (k, v) in d.Items)
                {
                    Check(source, k, insideIf);
                    Check(source, v, insideIf);
                }

                return;
        }
    }

    private static void CheckArgs(SourceText source, CallArgs args, bool insideIf)
    {
        args.Positional.ForEach(e => Check(source, e, insideIf));
        args.Named.ForEach(kv => Check(source, kv.Value, insideIf));
        Check(source, args.Star, insideIf);
        Check(source, args.DoubleStar, insideIf);
    }
}
