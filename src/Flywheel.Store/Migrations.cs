namespace Flywheel.Store;

/// <summary>
/// The schema, as numbered steps applied in order. Both providers run the same SQL, so it sticks to what SQLite and
/// PostgreSQL share: TEXT, BIGINT, DOUBLE PRECISION, composite keys, <c>ON CONFLICT</c>. Times are BIGINT
/// milliseconds since the Unix epoch (UTC), which compare and sort the same way in both. Never edit a released
/// step; add the next one.
/// </summary>
internal static class Migrations
{
    public sealed record Step(int Version, string Description, string[] Statements);

    public static IReadOnlyList<Step> All { get; } =
    [
        new(1, "tenants, api keys, traffic, feedback",
        [
            """
            CREATE TABLE tenants (
                name TEXT PRIMARY KEY,
                capture_enabled BIGINT NOT NULL DEFAULT 1,
                redaction_enabled BIGINT NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL REFERENCES tenants(name),
                key_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT NULL)
            """,
            "CREATE INDEX api_keys_tenant ON api_keys (tenant)",
            """
            CREATE TABLE traffic (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                kind TEXT NOT NULL,
                model TEXT NOT NULL,
                adapter TEXT NULL,
                request_json TEXT NOT NULL,
                parameters_json TEXT NULL,
                output_text TEXT NULL,
                tool_calls_json TEXT NULL,
                prompt_tokens BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                latency_ms DOUBLE PRECISION NOT NULL,
                finish_reason TEXT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX traffic_tenant_created ON traffic (tenant, created_at)",
            """
            CREATE TABLE feedback (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                record_id TEXT NOT NULL REFERENCES traffic(id) ON DELETE CASCADE,
                rating BIGINT NULL,
                correction_text TEXT NULL,
                correction_messages_json TEXT NULL,
                comment TEXT NULL,
                created_at BIGINT NOT NULL)
            """,
            "CREATE INDEX feedback_tenant_record ON feedback (tenant, record_id)",
        ]),
        new(2, "datasets",
        [
            """
            CREATE TABLE datasets (
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                source TEXT NOT NULL,
                train_count BIGINT NOT NULL,
                test_count BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (tenant, name))
            """,
            """
            CREATE TABLE dataset_examples (
                tenant TEXT NOT NULL,
                dataset TEXT NOT NULL,
                ordinal BIGINT NOT NULL,
                split TEXT NOT NULL,
                record_id TEXT NULL,
                messages_json TEXT NOT NULL,
                PRIMARY KEY (tenant, dataset, ordinal),
                FOREIGN KEY (tenant, dataset) REFERENCES datasets(tenant, name) ON DELETE CASCADE)
            """,
        ]),
        new(3, "reasoning text of captured answers",
        [
            "ALTER TABLE traffic ADD COLUMN reasoning_text TEXT NULL",
        ]),
    ];

    public static int Latest => All[^1].Version;
}
