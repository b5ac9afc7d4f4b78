using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Catalog;
using Similarity.Encoders;
using Similarity.Imports;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Imports;

public sealed class ImportTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    [Fact]
    public async Task A_csv_with_images_quoted_fields_and_utf8_imports_every_row()
    {
        var client = app.CreateAdminClient();
        var csv = """
            sku,title,description,category,brand,price,currency,available,image
            csv-1,"Shirt, red","Soft cotton
            two lines",shirts,acme,19.99,EUR,true,img/red.png
            csv-2,红色衬衫,丝绸,shirts,globex,88,CNY,false,img/blue.jpg
            csv-3,"Plain ""quoted"" mug",,mugs,,5,,,
            """;
        var zip = ImportClient.Zip(("img/red.png", TestImages.Noise(60, 60, 1)), ("img/blue.jpg", TestImages.Noise(60, 60, 2, ".jpg")));

        var job = await client.StartAsync(ImportClient.Form(csv, "catalog.csv", zip));
        Assert.Equal("queued", job.Status);
        var done = await client.WaitForEndAsync(job.Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(new ImportsApi.Counts(3, 3, 3, 0, 0, 0, 0, 0), done.Counts);
        var first = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/csv-1"))!;
        Assert.Equal("Shirt, red", first.Title);
        Assert.Equal("Soft cotton\ntwo lines", first.Description);
        Assert.Equal(new ItemsApi.Modalities(true, true), first.Modalities);
        var chinese = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/csv-2"))!;
        Assert.Equal("红色衬衫", chinese.Title);
        Assert.False(chinese.Available);
        Assert.Equal("Plain \"quoted\" mug", (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/csv-3"))!.Title);
    }

    [Fact]
    public async Task A_json_lines_catalog_imports_with_attributes()
    {
        var client = app.CreateAdminClient();
        var jsonl = """
            {"sku": "jl-1", "title": "Wool hat", "attributes": {"colour": "grey", "size": "L"}, "price": 12.5, "image": "hat.png"}
            {"sku": "jl-2", "title": "帽子", "available": false}
            """;
        var job = await client.StartAsync(ImportClient.Form(jsonl, "catalog.jsonl", ImportClient.Zip(("hat.png", TestImages.Noise(40, 40, 3)))));
        var done = await client.WaitForEndAsync(job.Id);

        Assert.Equal("succeeded", done.Status);
        var hat = (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/jl-1"))!;
        Assert.Equal("grey", hat.Attributes.GetProperty("colour").GetString());
        Assert.Equal(12.5m, hat.Price);
        Assert.True(hat.Modalities.Image);
    }

    [Fact]
    public async Task Five_percent_bad_rows_are_reported_with_row_and_reason_and_the_rest_imported()
    {
        var client = app.CreateAdminClient();
        var lines = new List<string> { "sku,title,price,image" };
        var bad = new Dictionary<int, string>
        {
            [7] = "bad-7,,3,",               // no title
            [23] = "bad sku 23,Thing,3,",    // SKU pattern
            [41] = "bad-41,Thing,-2,",       // price
            [66] = "bad-66,Thing,3,nope.png", // image entry missing
            [90] = "bad-90,Thing,3,text.png", // not an image
        };
        for (var row = 1; row <= 100; row++)
            lines.Add(bad.TryGetValue(row, out var line) ? line : $"ok-{row},Good thing {row},{row},");
        var zip = ImportClient.Zip(("text.png", "I am not a picture"u8.ToArray()));

        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(string.Join("\n", lines), "c.csv", zip))).Id);

        Assert.Equal("succeeded_with_errors", done.Status);
        Assert.Equal(95, done.Counts.Inserted);
        Assert.Equal(5, done.Counts.Errors);
        var errors = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{done.Id}/errors"))!.Errors;
        Assert.Equal(bad.Keys.Order(), errors.Select(e => e.Row));
        Assert.Contains("title", errors[0].Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SKU", errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("price", errors[2].Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not in the zip", errors[3].Reason, StringComparison.Ordinal);
        Assert.Contains("not JPEG, PNG, WebP or GIF", errors[4].Reason, StringComparison.Ordinal);
        // Each names the file's line (the header is line 1) and the column at fault.
        Assert.Equal(bad.Keys.Order().Select(row => (int?)(row + 1)), errors.Select(e => e.Line));
        Assert.Equal(["title", "sku", "price", "image", "image"], errors.Select(e => e.Columns));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/items/ok-100")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/bad-41")).StatusCode);

        using var asCsv = new HttpRequestMessage(HttpMethod.Get, $"/imports/{done.Id}/errors");
        asCsv.Headers.Add("Accept", "text/csv");
        var csv = await (await client.SendAsync(asCsv)).Content.ReadAsStringAsync();
        Assert.StartsWith("row,line,sku,columns,reason,stored", csv, StringComparison.Ordinal);
        Assert.Equal(6, csv.Trim().Split('\n').Length);
    }

    [Fact]
    public async Task A_repeated_sku_keeps_its_last_row_and_reports_the_earlier_as_superseded()
    {
        var client = app.CreateAdminClient();
        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form("sku,title\nrep-1,First\nrep-2,Other\nrep-1,Last"))).Id);
        Assert.Equal("succeeded", done.Status);
        Assert.Equal(1, done.Counts.Superseded);
        Assert.Equal("Last", (await client.GetFromJsonAsync<ItemsApi.ItemResponse>("/items/rep-1"))!.Title);
        var errors = (await client.GetFromJsonAsync<ImportsApi.ErrorsResponse>($"/imports/{done.Id}/errors"))!.Errors;
        Assert.Equal("superseded by row 3", Assert.Single(errors).Reason);
    }

    [Fact]
    public async Task One_idempotency_key_gives_one_job_and_a_different_body_under_it_is_422()
    {
        var client = app.CreateAdminClient();
        var key = Guid.NewGuid().ToString();
        var first = await client.StartAsync(ImportClient.Form("sku,title\nidem-1,One"), key);
        var second = await client.StartAsync(ImportClient.Form("sku,title\nidem-1,One"), key);
        Assert.Equal(first.Id, second.Id);

        using var other = new HttpRequestMessage(HttpMethod.Post, "/imports") { Content = ImportClient.Form("sku,title\nidem-1,Two") };
        other.Headers.Add("Idempotency-Key", key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.SendAsync(other)).StatusCode);
        // Its job runs its one text through the model: let it end here, not during the next test of this app, which counts model runs.
        await client.WaitForEndAsync(first.Id);
    }

    [Fact]
    public async Task The_same_catalog_imported_twice_runs_no_model_the_second_time()
    {
        var client = app.CreateAdminClient();
        var csv = "sku,title,image\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"twice-{i},Item {i},p{i}.png"));
        var zip = ImportClient.Zip([.. Enumerable.Range(0, 20).Select(i => ($"p{i}.png", TestImages.Noise(32, 32, 100 + i)))]);
        var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        var runs = 0;
        void Count(ModelRun run) => Interlocked.Add(ref runs, run.Size);
        pipeline.Image.ModelRan += Count;
        pipeline.Text.ModelRan += Count;
        try
        {
            await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(csv, "c.csv", zip))).Id);
            Assert.Equal(40, Interlocked.Exchange(ref runs, 0)); // the counter sees an import's model runs: 20 images, 20 texts

            var again = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form(csv, "c.csv", zip))).Id);
            Assert.Equal(20, again.Counts.Unchanged);
            Assert.Equal(0, again.Counts.Inserted + again.Counts.Updated);
        }
        finally
        {
            pipeline.Image.ModelRan -= Count;
            pipeline.Text.ModelRan -= Count;
        }
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task A_zip_with_a_parent_path_entry_is_refused_whole_naming_the_entry_and_imports_nothing()
    {
        // Entries are never extracted, so no path can escape; what the service guarantees is that such an
        // archive is refused whole — no row of its catalog is imported, not even one that names no image.
        var client = app.CreateAdminClient();
        var zip = ImportClient.Zip(("ok.png", TestImages.Noise(8, 8, 2)), ("../escaped.png", TestImages.Noise(8, 8, 1)));
        var job = await client.StartAsync(ImportClient.Form("sku,title,image\nslip-1,Z,ok.png\nslip-2,No image,", "c.csv", zip));
        var done = await client.WaitForEndAsync(job.Id);

        Assert.Equal("failed", done.Status);
        Assert.Contains("'../escaped.png' points outside the archive", done.Error, StringComparison.Ordinal);
        Assert.Equal(0, done.Counts.Processed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/slip-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/slip-2")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(app.SpoolPath, job.Id.ToString("N"))), "a refused upload is not kept");
    }

    [Fact]
    public async Task A_zip_bomb_is_refused_by_its_job_before_any_row()
    {
        var zip = ImportClient.Zip(("bomb.png", new byte[64 * 1024 * 1024]));
        Assert.True(zip.Length < 1024 * 1024, "the test's bomb must be small compressed");
        var client = app.CreateAdminClient();
        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form("sku,title,image\nb-1,B,bomb.png\nb-2,B,", "c.csv", zip))).Id);

        Assert.Equal("failed", done.Status);
        Assert.Contains("MaxCompressionRatio", done.Error, StringComparison.Ordinal);
        Assert.Equal(0, done.Counts.Processed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/b-2")).StatusCode);
        await AssertNoUploadWithoutAJob();
    }

    /// <summary>A refused upload leaves no folder behind: every folder in the spool belongs to a job.</summary>
    async Task AssertNoUploadWithoutAJob()
    {
        var jobs = (await app.CreateAdminClient().GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports?limit=200"))!.Select(j => j.Id.ToString("N"));
        Assert.Subset(jobs.ToHashSet(), Directory.EnumerateDirectories(app.SpoolPath).Select(Path.GetFileName).ToHashSet()!);
    }

    [Fact]
    public async Task A_finished_job_leaves_nothing_in_the_spool_and_cancelling_an_ended_job_is_409()
    {
        var client = app.CreateAdminClient();
        var done = await client.WaitForEndAsync((await client.StartAsync(ImportClient.Form("sku,title\nspool-1,S"))).Id);
        // The worker removes the upload right after recording the end: wait for that, not for the clock.
        var folder = Path.Combine(app.SpoolPath, done.Id.ToString("N"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Directory.Exists(folder) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.False(Directory.Exists(folder));
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/imports/{done.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/imports/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_zip_sent_as_the_catalog_is_a_415_that_says_so_and_the_document_lists_it()
    {
        var zip = ImportClient.Zip(("catalog.csv", "sku,title\nzip-1,Zipped"u8.ToArray()));
        using var form = new MultipartFormDataContent { { new ByteArrayContent(zip), "catalog", "catalog.zip" } };

        var response = await app.CreateAdminClient().PostAsync("/imports", form);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.StartsWith("The catalog is a zip archive.", problem.GetProperty("errors").GetProperty("catalog")[0].GetString(), StringComparison.Ordinal);
        var document = System.Text.Json.JsonElement.Parse(await app.CreateClient().GetStringAsync("/swagger/v1/swagger.json"));
        Assert.True(document.GetProperty("paths").GetProperty("/imports").GetProperty("post").GetProperty("responses").TryGetProperty("415", out _),
            "POST /imports does not document its 415");
    }

    [Fact]
    public async Task Imports_need_the_admin_key()
    {
        var response = await app.CreateClient().PostAsync("/imports", ImportClient.Form("sku,title\nk-1,K"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

public sealed class ImportLimitTests(ImportLimitTests.SmallUploadApp app) : IClassFixture<ImportLimitTests.SmallUploadApp>
{
    public sealed class SmallUploadApp : SimilarityApp
    {
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [
            new("Similarity:Imports:MaxUploadBytes", "2000"), new("Similarity:Imports:MaxRows", "10"),
            new("Similarity:Imports:MaxZipEntries", "3"), new("Similarity:Imports:MaxZipUncompressedBytes", "1000"),
        ];
    }

    /// <summary>What costs the same for any size is checked in the request: the header line, the zip's last bytes.</summary>
    public static TheoryData<string, string, byte[]?, int, string> RefusedAtUpload => new()
    {
        { "too many zip entries", "sku,title\nz-1,Z", ImportClient.Zip(("a.png", [1]), ("b.png", [2]), ("c.png", [3]), ("d.png", [4])), 413, "MaxZipEntries" },
        { "images that are not a zip", "sku,title\nz-1,Z", "not a zip at all"u8.ToArray(), 400, "not a zip" },
        { "csv without a title column", "sku,name\nz-1,Z", null, 400, "title" },
    };

    [Theory]
    [MemberData(nameof(RefusedAtUpload))]
    public async Task A_refused_upload_names_its_limit_and_stores_nothing(string because, string catalog, byte[]? zip, int status, string named)
    {
        var response = await app.CreateAdminClient().PostAsync("/imports", ImportClient.Form(catalog, "c.csv", zip));
        Assert.True(status == (int)response.StatusCode, $"{because}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(named, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(app.SpoolPath));
    }

    /// <summary>What grows with the upload is checked by its job, so the 202 never waits on it.</summary>
    public static TheoryData<string, string, byte[]?, string> RefusedByTheJob => new()
    {
        { "too many rows", "sku,title\n" + string.Join("\n", Enumerable.Range(0, 11).Select(i => $"r-{i},R")), null, "MaxRows" },
        { "zip inflating past its total", "sku,title\nz-1,Z", ImportClient.Zip(("a.png", new byte[1200])), "MaxZipUncompressedBytes" },
        { "absolute zip entry", "sku,title\nz-1,Z", ImportClient.Zip(("/etc/a.png", [1])), "'/etc/a.png' points outside the archive" },
    };

    [Theory]
    [MemberData(nameof(RefusedByTheJob))]
    public async Task The_202_comes_back_before_the_checks_and_the_job_reports_what_they_found(string because, string catalog, byte[]? zip, string named)
    {
        var client = app.CreateAdminClient();
        var response = await client.PostAsync("/imports", ImportClient.Form(catalog, "c.csv", zip));

        // Accepted, and not yet counted: the checks run in the job, after the answer.
        Assert.True(HttpStatusCode.Accepted == response.StatusCode, $"{because}: {(int)response.StatusCode}");
        var queued = (await response.Content.ReadFromJsonAsync<ImportsApi.JobResponse>())!;
        Assert.Equal("queued", queued.Status);
        Assert.Null(queued.Counts.Total);

        var done = await client.WaitForEndAsync(queued.Id);
        Assert.Equal("failed", done.Status);
        Assert.StartsWith("The upload was refused", done.Error, StringComparison.Ordinal);
        Assert.Contains(named, done.Error, StringComparison.Ordinal);
        Assert.Equal(0, done.Counts.Processed);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/items/z-1")).StatusCode);
        // Refused: its upload goes before the job is marked failed, and it cannot be resumed.
        Assert.False(Directory.Exists(Path.Combine(app.SpoolPath, queued.Id.ToString("N"))));
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/imports/{queued.Id}/resume", null)).StatusCode);
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_413_and_nothing_is_stored()
    {
        var client = app.CreateAdminClient();
        var jobsBefore = (await client.GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports"))!.Count;
        var csv = "sku,title\n" + string.Join("\n", Enumerable.Range(0, 300).Select(i => $"big-{i},Big item {i}"));
        var response = await client.PostAsync("/imports", ImportClient.Form(csv));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MaxUploadBytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(jobsBefore, (await client.GetFromJsonAsync<List<ImportsApi.JobResponse>>("/imports"))!.Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(app.SpoolPath));
    }
}
