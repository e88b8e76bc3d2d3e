using Xunit.Abstractions;
using Xunit.Sdk;

namespace Flywheel.Store.Tests;

/// <summary>
/// A fact that runs once per provider test class. In a class marked <see cref="INeedsPostgres"/> it is reported as
/// skipped, with the reason, when FLYWHEEL_TEST_POSTGRES is not set (xunit 2 has no runtime skip of its own).
/// </summary>
[XunitTestCaseDiscoverer("Flywheel.Store.Tests.ProviderFactDiscoverer", "Flywheel.Store.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProviderFactAttribute : FactAttribute;
