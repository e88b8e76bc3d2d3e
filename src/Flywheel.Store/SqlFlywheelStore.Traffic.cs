using System.Data.Common;
using Flywheel.Store.Feedback;
using Flywheel.Store.Tenants;
using Flywheel.Store.Traffic;

namespace Flywheel.Store;

internal abstract partial class SqlFlywheelStore
{
    private const string TrafficColumns =
        "id, tenant, kind, model, adapter, request_json, parameters_json, output_text, tool_calls_json, prompt_tokens, completion_tokens, latency_ms, finish_reason, created_at, reasoning_text";

    public Task WriteTrafficAsync(IReadOnlyList<TrafficRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        foreach (var r in records)
        {
            TrafficIds.Validate(r.Id);
            TenantNames.Validate(r.Tenant);
            ArgumentException.ThrowIfNullOrEmpty(r.Model);
            ArgumentNullException.ThrowIfNull(r.RequestJson);
        }
        if (records.Count == 0)
        {
            return Task.CompletedTask;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in records)
        {
            if (!seen.Add(r.Id)) throw new StoreException($"{Description}: the batch holds traffic record id '{r.Id}' twice");
        }
        return RunAsync(async (connection, ct) =>
        {
            bool duplicate = false;
            await using (var transaction = await connection.BeginTransactionAsync(ct))
            {
                try
                {
                    await InsertRowsAsync(connection, transaction, "traffic", TrafficColumns, records.Select(TrafficRow), ct);
                    await transaction.CommitAsync(ct);
                    return 0;
                }
                catch (Exception e) when (IsUniqueViolation(e))
                {
                    duplicate = true;
                }
            }
            // Name the record: the multi-row insert does not say which one, so ask after the rollback.
            string? existing = duplicate ? await FirstExistingIdAsync(connection, records, ct) : null;
            throw new StoreException($"{Description}: a traffic record with id '{existing ?? "?"}' already exists");
        }, cancellationToken);
    }

    private static object?[] TrafficRow(TrafficRecord r) =>
    [
        r.Id, r.Tenant, TrafficKinds.ToText(r.Kind), r.Model, r.Adapter, r.RequestJson, r.ParametersJson, r.OutputText, r.ToolCallsJson,
        (long)r.PromptTokens, (long)r.CompletionTokens, r.LatencyMs, r.FinishReason, ToMillis(r.CreatedAt), r.ReasoningText,
    ];

    private static async Task<string?> FirstExistingIdAsync(DbConnection connection, IReadOnlyList<TrafficRecord> records, CancellationToken ct)
    {
        foreach (var r in records)
        {
            await using var command = Command(connection, null, "SELECT 1 FROM traffic WHERE id = @id");
            Add(command, "id", r.Id);
            if (await command.ExecuteScalarAsync(ct) is not null) return r.Id;
        }
        return null;
    }

    public Task<TrafficRecord?> GetTrafficAsync(string tenant, string id, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(id);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null, $"SELECT {TrafficColumns} FROM traffic WHERE tenant = @tenant AND id = @id");
            Add(command, "tenant", tenant);
            Add(command, "id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadTraffic(reader) : null;
        }, cancellationToken);
    }

    public Task<long> CountTrafficAsync(string tenant, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null, "SELECT COUNT(*) FROM traffic WHERE tenant = @tenant");
            Add(command, "tenant", tenant);
            return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<CapturedExchange>> QueryExchangesAsync(string tenant, DateTimeOffset? since = null, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        long from = since is { } s ? ToMillis(s) : long.MinValue;
        return RunAsync<IReadOnlyList<CapturedExchange>>(async (connection, ct) =>
        {
            var records = new List<TrafficRecord>();
            await using (var command = Command(connection, null,
                $"SELECT {TrafficColumns} FROM traffic WHERE tenant = @tenant AND created_at >= @since ORDER BY created_at, id"))
            {
                Add(command, "tenant", tenant);
                Add(command, "since", from);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    records.Add(ReadTraffic(reader));
                }
            }

            // Latest rating and latest correction per record, folded in feedback order (later feedback wins).
            var ratings = new Dictionary<string, int>(StringComparer.Ordinal);
            var corrections = new Dictionary<string, Correction>(StringComparer.Ordinal);
            await using (var command = Command(connection, null,
                """
                SELECT f.record_id, f.rating, f.correction_text, f.correction_messages_json
                FROM feedback f JOIN traffic t ON t.id = f.record_id AND t.tenant = f.tenant
                WHERE f.tenant = @tenant AND t.created_at >= @since
                ORDER BY f.created_at, f.id
                """))
            {
                Add(command, "tenant", tenant);
                Add(command, "since", from);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    string recordId = reader.GetString(0);
                    if (LongOrNull(reader, 1) is { } rating) ratings[recordId] = (int)rating;
                    if (Correction.FromColumns(TextOrNull(reader, 2), TextOrNull(reader, 3)) is { } correction) corrections[recordId] = correction;
                }
            }
            return records.Select(r => new CapturedExchange(r,
                ratings.TryGetValue(r.Id, out int rating) ? rating : null,
                corrections.GetValueOrDefault(r.Id))).ToList();
        }, cancellationToken);
    }

    private static TrafficRecord ReadTraffic(DbDataReader reader)
    {
        string kindText = reader.GetString(2);
        if (!TrafficKinds.TryParse(kindText, out var kind))
        {
            throw new StoreException($"traffic record {reader.GetString(0)} has an unknown kind '{kindText}'");
        }
        return new TrafficRecord
        {
            Id = reader.GetString(0),
            Tenant = reader.GetString(1),
            Kind = kind,
            Model = reader.GetString(3),
            Adapter = TextOrNull(reader, 4),
            RequestJson = reader.GetString(5),
            ParametersJson = TextOrNull(reader, 6),
            OutputText = TextOrNull(reader, 7),
            ToolCallsJson = TextOrNull(reader, 8),
            PromptTokens = (int)reader.GetInt64(9),
            CompletionTokens = (int)reader.GetInt64(10),
            LatencyMs = reader.GetDouble(11),
            FinishReason = TextOrNull(reader, 12),
            CreatedAt = FromMillis(reader.GetInt64(13)),
            ReasoningText = TextOrNull(reader, 14),
        };
    }

    public Task<FeedbackResult> AddFeedbackAsync(string tenant, FeedbackInput feedback, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(feedback);
        ArgumentException.ThrowIfNullOrEmpty(feedback.RecordId);
        if (feedback.Rating is { } r && !FeedbackRatings.IsValid(r))
        {
            throw new ArgumentException($"rating {r} is outside 1..5", nameof(feedback));
        }
        if (feedback.Rating is null && feedback.Correction is null && feedback.Comment is null)
        {
            throw new ArgumentException("feedback needs a rating, a correction or a comment", nameof(feedback));
        }
        return RunAsync(async (connection, ct) =>
        {
            string id = "fb-" + Guid.CreateVersion7().ToString("N");
            long now = Now();
            // One statement checks the owner and inserts, so a record of another tenant can never gain feedback.
            await using var command = Command(connection, null,
                """
                INSERT INTO feedback (id, tenant, record_id, rating, correction_text, correction_messages_json, comment, created_at)
                SELECT @id, @tenant, @record, @rating, @text, @messages, @comment, @now
                WHERE EXISTS (SELECT 1 FROM traffic WHERE id = @record AND tenant = @tenant)
                """);
            Add(command, "id", id);
            Add(command, "tenant", tenant);
            Add(command, "record", feedback.RecordId);
            Add(command, "rating", feedback.Rating);
            Add(command, "text", feedback.Correction?.Text);
            Add(command, "messages", feedback.Correction?.MessagesJson);
            Add(command, "comment", feedback.Comment);
            Add(command, "now", now);
            if (await command.ExecuteNonQueryAsync(ct) == 0)
            {
                return new FeedbackResult(FeedbackOutcome.UnknownRecord, null);
            }
            return new FeedbackResult(FeedbackOutcome.Stored,
                new FeedbackRecord(id, tenant, feedback.RecordId, feedback.Rating, feedback.Correction, feedback.Comment, FromMillis(now)));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<FeedbackRecord>> ListFeedbackAsync(string tenant, string recordId, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(recordId);
        return RunAsync<IReadOnlyList<FeedbackRecord>>(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                """
                SELECT id, rating, correction_text, correction_messages_json, comment, created_at
                FROM feedback WHERE tenant = @tenant AND record_id = @record ORDER BY created_at, id
                """);
            Add(command, "tenant", tenant);
            Add(command, "record", recordId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var list = new List<FeedbackRecord>();
            while (await reader.ReadAsync(ct))
            {
                list.Add(new FeedbackRecord(reader.GetString(0), tenant, recordId, (int?)LongOrNull(reader, 1),
                    Correction.FromColumns(TextOrNull(reader, 2), TextOrNull(reader, 3)), TextOrNull(reader, 4), FromMillis(reader.GetInt64(5))));
            }
            return list;
        }, cancellationToken);
    }
}
