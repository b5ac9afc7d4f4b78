// The README's calls through the Kiota client generated from the live document (namespace Similarity.Client):
// an import with a file (multipart) and its status, then GET /similar/{sku} with filters. Arguments: the service's
// address, the admin key, the catalog file. Prints one line per check; exits 1 naming the first that fails.
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Similarity.Client;
using Similarity.Client.Models;

var (url, key, catalogPath) = (args[0], args[1], args[2]);
using var http = new HttpClient();
http.DefaultRequestHeaders.Add("X-Api-Key", key);
var client = new SimilarityClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = url });

// POST /imports: multipart catalog (and format), 202 with the job.
var form = new MultipartBody();
await using var catalog = File.OpenRead(catalogPath);
form.AddOrReplacePart("catalog", "text/csv", catalog, Path.GetFileName(catalogPath));
form.AddOrReplacePart("format", "text/plain", "native");
var job = await client.Imports.PostAsync(form) ?? throw new InvalidOperationException("POST /imports answered no job");
Console.WriteLine($"import {job.Id} {job.Status}");

// GET /imports/{id} until the job is done: status and format are enumerations, counts always present.
var deadline = DateTime.UtcNow.AddMinutes(2);
while (job.Status is JobResponse_status.Queued or JobResponse_status.Running)
{
    if (DateTime.UtcNow > deadline)
        return Fail($"the import was still {job.Status} after 2 minutes");
    await Task.Delay(100);
    job = await client.Imports[job.Id!.Value].GetAsync() ?? throw new InvalidOperationException("GET /imports/{id} answered nothing");
}
Console.WriteLine($"import {job.Status} {job.Format} inserted={job.Counts!.Inserted} errors={job.Counts.Errors} total={job.Counts.Total}");
if (job.Status != JobResponse_status.Succeeded || job.Format != JobResponse_format.Native)
    return Fail($"the import ended {job.Status} ({job.Format}): {job.Error}");

// GET /similar/{sku} with filters: only available birds under 80, at most 3.
var similar = await client.Similar["oc-4247b1b271e6b456"].GetAsync(request =>
{
    request.QueryParameters.K = 3;
    request.QueryParameters.Category = "animals/birds";
    request.QueryParameters.Available = true;
    request.QueryParameters.PriceMax = 80;
    request.QueryParameters.Fields = "description";
}) ?? throw new InvalidOperationException("GET /similar/{sku} answered nothing");
Console.WriteLine($"similar {similar.Sku} {similar.Source} {similar.RankedBy}");
foreach (var result in similar.Results!)
    Console.WriteLine($"result {result.Sku} {result.Category} {result.Price} {result.Available} {result.Score:0.000} {result.Description}");
if (similar.Results!.Count == 0 || similar.Results.Any(r => r.Category != "animals/birds" || r.Available != true || r.Price > 80))
    return Fail("the filters were not applied");
return 0;

static int Fail(string why)
{
    Console.WriteLine("FAILED: " + why);
    return 1;
}
