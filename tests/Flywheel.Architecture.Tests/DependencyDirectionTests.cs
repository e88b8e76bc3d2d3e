using System.Reflection;

namespace Flywheel.Architecture.Tests;

/// <summary>
/// Enforces the dependency directions of DESIGN.md on the built assemblies: references only point down the
/// layer list, third-party frameworks stay in the project that owns them, and nothing refers to the
/// composition roots.
/// </summary>
public class DependencyDirectionTests
{
    /// <summary>Direct references each project may make (to Flywheel assemblies); the closure is allowed too.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Flywheel.Tensors"] = [],
        ["Flywheel.Kernels"] = ["Flywheel.Tensors"],
        ["Flywheel.Kernels.Gpu"] = ["Flywheel.Kernels"],
        ["Flywheel.Formats"] = ["Flywheel.Tensors"],
        ["Flywheel.Tokenizers"] = ["Flywheel.Formats"],
        ["Flywheel.Models"] = ["Flywheel.Kernels", "Flywheel.Kernels.Gpu", "Flywheel.Formats", "Flywheel.Tokenizers"],
        ["Flywheel.Engine"] = ["Flywheel.Models"],
        ["Flywheel.Store"] = [],
        ["Flywheel.Loop"] = ["Flywheel.Engine", "Flywheel.Store"],
        ["Flywheel.Server"] = ["*"],
        ["Flywheel.Cli"] = ["*"],
    };

    /// <summary>Third-party assembly name prefixes, and the only projects that may reference them.</summary>
    private static readonly (string Prefix, string[] Owners)[] Frameworks =
    [
        ("Microsoft.AspNetCore", ["Flywheel.Server"]),
        ("Microsoft.Data.Sqlite", ["Flywheel.Store"]),
        ("Npgsql", ["Flywheel.Store"]),
        ("System.CommandLine", ["Flywheel.Cli"]),
        ("Spectre.Console", ["Flywheel.Cli"]),
    ];

    /// <summary>Tensors and Kernels have no logging, dependency injection or hosting.</summary>
    private static readonly string[] CoreProjects = ["Flywheel.Tensors", "Flywheel.Kernels"];
    private static readonly string[] CoreForbidden = ["Microsoft.Extensions"];

    public static TheoryData<string> Projects()
    {
        var data = new TheoryData<string>();
        foreach (var a in FlywheelAssemblies()) data.Add(a.GetName().Name!);
        return data;
    }

    /// <summary>The store knows nothing about inference: besides the runtime it may use only these.</summary>
    private static readonly string[] StoreAllowed = ["Microsoft.Extensions.AI.Abstractions", "Microsoft.Data.Sqlite", "Npgsql"];

    [Fact]
    public void Store_refers_only_to_the_runtime_the_shared_abstractions_and_its_two_drivers()
    {
        var store = Assembly.Load("Flywheel.Store");
        var references = store.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.Contains("Microsoft.Data.Sqlite", references);
        Assert.Contains("Npgsql", references);
        Assert.All(references, r => Assert.True(
            r.StartsWith("System.", StringComparison.Ordinal) || r is "System" or "netstandard" or "mscorlib" || StoreAllowed.Contains(r),
            $"Flywheel.Store must not reference {r}; it may use only the runtime and {string.Join(", ", StoreAllowed)}"));
    }

    private static IEnumerable<Assembly> FlywheelAssemblies() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "Flywheel.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(n => !n!.EndsWith(".Tests", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => Assembly.Load(n!));

    [Fact]
    public void Every_source_project_is_checked()
    {
        var built = FlywheelAssemblies().Select(a => a.GetName().Name!).ToList();
        Assert.Contains("Flywheel.Tensors", built);
        Assert.Contains("Flywheel.Formats", built);
        Assert.All(built, name => Assert.True(Allowed.ContainsKey(name), $"{name} has no place in the layer list; add it to DESIGN.md and this test"));
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void References_point_down_the_layers(string project)
    {
        var assembly = Assembly.Load(project);
        var closure = Closure(project);
        foreach (var reference in assembly.GetReferencedAssemblies().Select(r => r.Name!))
        {
            if (reference.StartsWith("Flywheel.", StringComparison.Ordinal))
            {
                Assert.True(closure.Contains("*") || closure.Contains(reference), $"{project} must not reference {reference}");
                Assert.False(reference is "Flywheel.Server" or "Flywheel.Cli", $"{project} references the composition root {reference}");
            }
            foreach (var (prefix, owners) in Frameworks)
            {
                if (reference.StartsWith(prefix, StringComparison.Ordinal))
                {
                    Assert.True(owners.Contains(project), $"{project} must not reference {reference}; only {string.Join(", ", owners)} may");
                }
            }
            if (CoreProjects.Contains(project))
            {
                Assert.False(CoreForbidden.Any(f => reference.StartsWith(f, StringComparison.Ordinal)), $"{project} must stay free of {reference}");
            }
        }
    }

    private static HashSet<string> Closure(string project)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(Allowed.GetValueOrDefault(project, []));
        while (stack.TryPop(out var next))
        {
            if (result.Add(next) && Allowed.TryGetValue(next, out var more))
            {
                foreach (var m in more) stack.Push(m);
            }
        }
        return result;
    }
}
