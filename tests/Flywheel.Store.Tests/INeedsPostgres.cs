namespace Flywheel.Store.Tests;

/// <summary>Marks a test class whose tests need the PostgreSQL server named by FLYWHEEL_TEST_POSTGRES.</summary>
public interface INeedsPostgres;
