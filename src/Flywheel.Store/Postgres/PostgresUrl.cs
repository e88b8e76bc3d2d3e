using System.Globalization;
using Npgsql;

namespace Flywheel.Store.Postgres;

/// <summary>
/// Reads <c>postgres://user:password@host:port/database?schema=NAME&amp;sslmode=MODE&amp;timeout=SECONDS</c>
/// (<c>postgresql://</c> too) into Npgsql settings. User and password are percent-decoded. <c>schema</c> puts
/// Flywheel's tables in their own schema (created when missing), so one database can hold several stores.
/// </summary>
public static class PostgresUrl
{
    /// <summary>Parses a URL, or throws <see cref="StoreException"/> saying what is wrong with it.</summary>
    public static (NpgsqlConnectionStringBuilder Settings, string Schema) Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw new StoreException($"'{Redact(url)}' is not a store URL: expected postgres://user:password@host:port/database");
        }
        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new StoreException($"'{Redact(url)}' names no host");
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/'))
        {
            throw new StoreException($"'{Redact(url)}' names no database: expected postgres://user:password@host:port/database");
        }
        var settings = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            // Fail fast on an unreachable server; Npgsql's default of 15 s looks like a hang on the command line.
            Timeout = 5,
        };
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            settings.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) settings.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        string schema = "public";
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            string value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "schema":
                    if (value.Length is 0 or > 63 || !(char.IsAsciiLetterLower(value[0]) || value[0] == '_')
                        || !value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
                    {
                        throw new StoreException($"schema '{value}' must be 1 to 63 lower-case letters, digits or '_', not starting with a digit");
                    }
                    schema = value;
                    break;
                case "sslmode":
                    if (!Enum.TryParse<SslMode>(value, ignoreCase: true, out var mode))
                    {
                        throw new StoreException($"sslmode '{value}' is not one of {string.Join(", ", Enum.GetNames<SslMode>())}");
                    }
                    settings.SslMode = mode;
                    break;
                case "timeout":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) || seconds is < 1 or > 1024)
                    {
                        throw new StoreException($"timeout '{value}' must be 1 to 1024 seconds");
                    }
                    settings.Timeout = seconds;
                    break;
                default:
                    throw new StoreException($"unknown option '{key}' in the store URL (known: schema, sslmode, timeout)");
            }
        }
        settings.SearchPath = schema;
        return (settings, schema);
    }

    /// <summary>The URL without its password, for messages and logs.</summary>
    public static string Redact(string url)
    {
        int at = url.IndexOf('@', StringComparison.Ordinal);
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme) return url;
        int colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..(colon + 1)] + "***" + url[at..] : url;
    }
}
