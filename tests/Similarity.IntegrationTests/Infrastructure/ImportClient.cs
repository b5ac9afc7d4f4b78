using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using Similarity.Imports;

namespace Similarity.IntegrationTests.Infrastructure;

public static class ImportClient
{
    public static MultipartFormDataContent Form(string catalog, string fileName = "catalog.csv", byte[]? imagesZip = null)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(catalog)), "catalog", fileName } };
        if (imagesZip is not null)
            form.Add(new ByteArrayContent(imagesZip), "images", "images.zip");
        return form;
    }

    /// <summary>Adds a text field (format, mapping, missingImage) to an upload form.</summary>
    public static MultipartFormDataContent With(this MultipartFormDataContent form, string name, string value)
    {
        form.Add(new StringContent(value), name);
        return form;
    }

    public static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                stream.Write(bytes);
            }
        }
        return memory.ToArray();
    }

    public static async Task<ImportsApi.JobResponse> StartAsync(this HttpClient client, MultipartFormDataContent form, string? idempotencyKey = null)
    {
        var response = await client.PostImportAsync(form, idempotencyKey);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"POST /imports answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ImportsApi.JobResponse>())!;
    }

    static readonly string[] Ended = ["succeeded", "succeeded_with_errors", "failed", "cancelled"];

    /// <summary>Polls the job until it ends (or the deadline passes): waiting on the job's own state, not on the clock.</summary>
    public static Task<ImportsApi.JobResponse> WaitForEndAsync(this HttpClient client, Guid id, int timeoutSeconds = 120) =>
        client.WaitForAsync(id, job => Ended.Contains(job.Status), timeoutSeconds);

    /// <summary>Polls the job until <paramref name="reached"/> holds (or the deadline passes).</summary>
    public static async Task<ImportsApi.JobResponse> WaitForAsync(this HttpClient client, Guid id, Func<ImportsApi.JobResponse, bool> reached, int timeoutSeconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var job = (await client.GetFromJsonAsync<ImportsApi.JobResponse>($"/imports/{id}"))!;
            if (reached(job))
                return job;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"import {id} is {job.Status} after {timeoutSeconds} s: {job.Counts} {job.Error}");
            await Task.Delay(20);
        }
    }

    /// <summary>Posts an upload and returns the raw answer (for refusals and idempotent re-posts).</summary>
    public static async Task<HttpResponseMessage> PostImportAsync(this HttpClient client, MultipartFormDataContent form, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/imports") { Content = form };
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }
}
