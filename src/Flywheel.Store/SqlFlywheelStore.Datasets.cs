using System.Data.Common;
using Flywheel.Store.Datasets;
using Flywheel.Store.Tenants;

namespace Flywheel.Store;

internal abstract partial class SqlFlywheelStore
{
    public Task<DatasetInfo> CreateDatasetAsync(NewDataset dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        TenantNames.Validate(dataset.Tenant);
        DatasetNames.Validate(dataset.Name);
        ArgumentNullException.ThrowIfNull(dataset.Source);
        if (dataset.Examples.Any(e => e.Split == DatasetSplit.All))
        {
            throw new ArgumentException("every example must be in the train or the test split", nameof(dataset));
        }
        int train = dataset.Examples.Count(e => e.Split == DatasetSplit.Train);
        int test = dataset.Examples.Count - train;
        return RunAsync(async (connection, ct) =>
        {
            long now = Now();
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using (var insert = Command(connection, transaction,
                "INSERT INTO datasets (tenant, name, source, train_count, test_count, created_at) VALUES (@tenant, @name, @source, @train, @test, @now)"))
            {
                Add(insert, "tenant", dataset.Tenant);
                Add(insert, "name", dataset.Name);
                Add(insert, "source", dataset.Source);
                Add(insert, "train", (long)train);
                Add(insert, "test", (long)test);
                Add(insert, "now", now);
                try
                {
                    await insert.ExecuteNonQueryAsync(ct);
                }
                catch (Exception e) when (IsUniqueViolation(e))
                {
                    throw new StoreException($"tenant '{dataset.Tenant}' already has a dataset named '{dataset.Name}'", e);
                }
            }
            await InsertRowsAsync(connection, transaction, "dataset_examples", "tenant, dataset, ordinal, split, record_id, messages_json",
                dataset.Examples.Select((e, i) => new object?[] { dataset.Tenant, dataset.Name, (long)i, SplitText(e.Split), e.RecordId, e.MessagesJson }), ct);
            await transaction.CommitAsync(ct);
            return new DatasetInfo(dataset.Tenant, dataset.Name, dataset.Source, train, test, FromMillis(now));
        }, cancellationToken);
    }

    public Task<IReadOnlyList<DatasetInfo>> ListDatasetsAsync(string tenant, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        return RunAsync<IReadOnlyList<DatasetInfo>>(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "SELECT tenant, name, source, train_count, test_count, created_at FROM datasets WHERE tenant = @tenant ORDER BY name");
            Add(command, "tenant", tenant);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var list = new List<DatasetInfo>();
            while (await reader.ReadAsync(ct))
            {
                list.Add(ReadDataset(reader));
            }
            return list;
        }, cancellationToken);
    }

    public Task<DatasetInfo?> GetDatasetAsync(string tenant, string name, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null,
                "SELECT tenant, name, source, train_count, test_count, created_at FROM datasets WHERE tenant = @tenant AND name = @name");
            Add(command, "tenant", tenant);
            Add(command, "name", name);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadDataset(reader) : null;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<DatasetExample>?> GetDatasetExamplesAsync(string tenant, string name, DatasetSplit split, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync<IReadOnlyList<DatasetExample>?>(async (connection, ct) =>
        {
            await using (var exists = Command(connection, null, "SELECT 1 FROM datasets WHERE tenant = @tenant AND name = @name"))
            {
                Add(exists, "tenant", tenant);
                Add(exists, "name", name);
                if (await exists.ExecuteScalarAsync(ct) is null)
                {
                    return null;
                }
            }
            await using var command = Command(connection, null,
                """
                SELECT messages_json, split, record_id FROM dataset_examples
                WHERE tenant = @tenant AND dataset = @name AND (@split IS NULL OR split = @split) ORDER BY ordinal
                """);
            Add(command, "tenant", tenant);
            Add(command, "name", name);
            Add(command, "split", split == DatasetSplit.All ? null : SplitText(split));
            await using var reader = await command.ExecuteReaderAsync(ct);
            var list = new List<DatasetExample>();
            while (await reader.ReadAsync(ct))
            {
                list.Add(new DatasetExample(reader.GetString(0), reader.GetString(1) == "test" ? DatasetSplit.Test : DatasetSplit.Train, TextOrNull(reader, 2)));
            }
            return list;
        }, cancellationToken);
    }

    public Task<bool> DeleteDatasetAsync(string tenant, string name, CancellationToken cancellationToken = default)
    {
        TenantNames.Validate(tenant);
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync(async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // Examples first: SQLite enforces the cascade only with foreign_keys on, so do not rely on it.
            await using (var examples = Command(connection, transaction, "DELETE FROM dataset_examples WHERE tenant = @tenant AND dataset = @name"))
            {
                Add(examples, "tenant", tenant);
                Add(examples, "name", name);
                await examples.ExecuteNonQueryAsync(ct);
            }
            await using var command = Command(connection, transaction, "DELETE FROM datasets WHERE tenant = @tenant AND name = @name");
            Add(command, "tenant", tenant);
            Add(command, "name", name);
            bool deleted = await command.ExecuteNonQueryAsync(ct) == 1;
            await transaction.CommitAsync(ct);
            return deleted;
        }, cancellationToken);
    }

    private static DatasetInfo ReadDataset(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), (int)reader.GetInt64(3), (int)reader.GetInt64(4), FromMillis(reader.GetInt64(5)));

    private static string SplitText(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => "train",
        DatasetSplit.Test => "test",
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };
}
