using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pgvector;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Operations;

/// <summary>
/// What the model-set tests share: a service with a small catalog, the committed clipart set as the candidate's
/// bundle (another fingerprint than the tests' tiny live set), and the vectors read straight from the table, so every
/// expected ranking is a brute force.
/// </summary>
static class ModelSetTesting
{
    public const string Candidate = "clip";
    public const int Items = 24;

    /// <summary>Exact answers to compare with: the index search (no neighbour lists), which at this size the index answers exactly.</summary>
    public sealed class App : SimilarityApp
    {
        readonly string _embedRate;
        readonly Action<IServiceCollection>? _services;

        public App(string embedRate = "1000", Action<IServiceCollection>? services = null) => (_embedRate, _services) = (embedRate, services);

        public App(TestDatabase database, string spool, string embedRate) : base(database, spool) => _embedRate = embedRate;

        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("Similarity:Search:ListSize", "0"), new("Similarity:Models:EmbedItemsPerSecond", _embedRate)];

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            if (_services is not null)
                builder.ConfigureServices(_services);
        }
    }

    public static TestItem ItemOf(int i) => new($"ml-{i:D2}", $"{(i % 3 == 0 ? "red" : i % 3 == 1 ? "blue" : "green")} {(i % 2 == 0 ? "wool" : "leather")} item {i}",
        i % 4 == 0 ? "shirts" : "bags", Image: i % 2 == 0 ? TestImages.Noise(48, 48, seed: i) : null);

    public static async Task<App> StartWithCatalogAsync(string embedRate = "1000", Action<IServiceCollection>? services = null)
    {
        var app = new App(embedRate, services);
        await app.InitializeAsync();
        await app.StartAsync();
        var admin = app.CreateAdminClient();
        for (var i = 0; i < Items; i++)
            await admin.PutItemAsync(ItemOf(i));
        return app;
    }

    /// <summary>The candidate deployed and embedded: its <c>GET /models</c> entry as the deploy answered it.</summary>
    public static async Task<JsonElement> DeployAndEmbedAsync(HttpClient admin)
    {
        var deployed = await admin.PutAsync($"/models/{Candidate}", CandidateBundle());
        Assert.Equal(HttpStatusCode.Created, deployed.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/models/{Candidate}/embed", null)).StatusCode);
        await WaitUntilReadyAsync(admin, Candidate);
        return await deployed.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The trained default set as the candidate's bundle.</summary>
    public static ByteArrayContent CandidateBundle() => Bundle(TestPaths.Models("clipart"));

    /// <summary>A bundle of a model set's folder, zipped here; <paramref name="tamper"/> may change a file first.</summary>
    public static ByteArrayContent Bundle(string folder, Action<string>? tamper = null)
    {
        var copy = Directory.CreateTempSubdirectory("bundle-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(folder))
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            tamper?.Invoke(copy);
            var zip = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.zip");
            ZipFile.CreateFromDirectory(copy, zip);
            var content = new ByteArrayContent(File.ReadAllBytes(zip));
            File.Delete(zip);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            return content;
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    public static async Task<JsonElement> ModelsAsync(HttpClient admin) => (await admin.GetFromJsonAsync<JsonElement>("/models")).GetProperty("models");

    public static JsonElement SetNamed(JsonElement models, string name) => models.EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);

    public static async Task<string> LiveNameAsync(HttpClient admin) => (await ModelsAsync(admin))[0].GetProperty("name").GetString()!;

    /// <summary>Polls GET /models until the set's status is ready (the job's end is only visible there).</summary>
    public static async Task WaitUntilReadyAsync(HttpClient admin, string name)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (SetNamed(await ModelsAsync(admin), name).GetProperty("status").GetString() != "ready")
        {
            Assert.True(DateTime.UtcNow < deadline, $"{name} was not ready after 2 minutes");
            await Task.Delay(100);
        }
    }

    public static async Task ActivateAsync(SimilarityApp app, HttpClient admin, string name)
    {
        var response = await admin.PostAsync($"/models/{name}/activate", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"activate {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{app.Logs.Problems}");
    }

    public sealed record Vectors(string Sku, double[]? Live, double[]? Standby, string? LiveFingerprint, string? StandbyFingerprint);

    public static async Task<List<Vectors>> ReadVectorsAsync(TestDatabase database)
    {
        var builder = new NpgsqlDataSourceBuilder(database.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await using var command = dataSource.CreateCommand("SELECT sku, embedding, standby_embedding, fingerprint, standby_fingerprint FROM items ORDER BY sku");
        await using var reader = await command.ExecuteReaderAsync();
        var all = new List<Vectors>();
        double[]? Read(int i) => reader.IsDBNull(i) ? null : [.. reader.GetFieldValue<Vector>(i).ToArray().Select(v => (double)v)];
        while (await reader.ReadAsync())
            all.Add(new Vectors(reader.GetString(0), Read(1), Read(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        return all;
    }

    /// <summary>The exact top 10 of <paramref name="sku"/> under one group of vectors, best first.</summary>
    public static List<string> TopTen(List<Vectors> all, string sku, Func<Vectors, double[]?> group)
    {
        var query = group(all.Single(v => v.Sku == sku))!;
        return [.. all.Where(v => v.Sku != sku && group(v) is not null)
            .OrderByDescending(v => BruteForce.Cosine(query, group(v)!)).ThenBy(v => v.Sku, StringComparer.Ordinal).Take(10).Select(v => v.Sku)];
    }

    public static List<string> Skus(Similar.SimilarApi.SimilarResponse response) => [.. response.Results.Select(r => r.Sku)];

    public static async Task<List<(string Sku, string Version)>> RowVersionsAsync(TestDatabase database, string where)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT sku, xmin::text FROM items WHERE {where} ORDER BY sku", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }
}
