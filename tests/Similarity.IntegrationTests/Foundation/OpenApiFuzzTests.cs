using System.Net;
using System.Text;
using System.Text.Json;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Foundation;

/// <summary>
/// Every operation of the live OpenAPI document, every path, query and header parameter and every form field
/// of it, sent a corpus of hostile values, with the admin key and without: never a 5xx, and every 4xx a
/// ProblemDetails. The operations come from the document, so a new endpoint is fuzzed without editing this test.
/// </summary>
public sealed class OpenApiFuzzTests(SimilarityApp app) : IClassFixture<SimilarityApp>
{
    readonly CapturedLogs logs = app.Logs;

    static readonly string[] Corpus =
    [
        "", " ", "\0", "a\0b", "\ud800", "x\udc00y", "\r\n", "abc\n", "line\r\nX-Injected: yes", new string('a', 10_000),
        "\u202Eevil\u202C", "\u200F\u200E", "😀🧪👩‍👩‍👧", "' OR 1=1; DROP TABLE items; --", "%00", "../../../etc/passwd",
        "-1", "0", "-0", "2147483648", "-9223372036854775809", "99999999999999999999999999999999", "1e309", "-1e309", "1e-400",
        "NaN", "Infinity", "999999999999.995", """{"a":"\u0000"}""", """{"a":"\ud800"}""", """{"n":1e999999}""", "[]", "null",
        // Valid to .NET but not as written to the items table's CHECKs ('^https?://' is case-sensitive; at most 4 decimals).
        "HTTPS://x.example/a.jpg", "http:x.example/a.jpg", @"https:\\x.example\a.jpg", "19.900000",
    ];

    /// <summary>Plain values tried in turn for a field's baseline: the first that does not make the answer worse stays.</summary>
    static readonly string[] Plain = ["fuzz-1", "1", "true", "{}"];

    enum Place { Path, Query, Header, Form, File }

    sealed record Field(string Name, Place In, string? Format);

    sealed record Operation(string Method, string Route, IReadOnlyList<Field> Fields)
    {
        public bool HasForm => Fields.Any(f => f.In is Place.Form or Place.File);

        public override string ToString() => $"{Method} {Route}";
    }

    [Fact]
    public async Task No_operation_answers_a_hostile_value_with_a_5xx_and_every_4xx_is_a_problem_details()
    {
        var admin = app.CreateAdminClient();
        var anonymous = app.CreateClient();
        // Something for the ids to name: an item and an import job.
        await admin.PutItemAsync(new TestItem("fuzz-1", "fuzzed wool hat"));
        var job = await admin.WaitForEndAsync((await admin.StartAsync(ImportClient.Form("sku,title\nfuzz-2,Fuzzed scarf"))).Id);
        var knownIds = new[] { job.Id.ToString() };

        var operations = await OperationsAsync(anonymous);
        Assert.Contains(operations, o => o.ToString() == "GET /similar/{sku}");
        Assert.Contains(operations, o => o.ToString() == "POST /imports" && o.Fields.Any(f => f.Name == "catalog" && f.In == Place.File));
        var sent = 0;
        // Deletions last, so the others still find what the baseline names.
        foreach (var operation in operations.OrderBy(o => o.Method == "DELETE"))
        {
            var baseline = await BaselineAsync(admin, operation, knownIds);
            var cases = operation.Fields.SelectMany(field => Corpus.SelectMany(value => new[] { admin, anonymous }.Select(client => (field, value, client))));
            await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
            {
                var values = new Dictionary<string, string>(baseline) { [c.field.Name] = c.value };
                if (await SendAsync(c.client, operation, values, $"{operation} with {c.field.Name} = {Show(c.value)}") is not null)
                    Interlocked.Increment(ref sent);
            });
        }

        Assert.True(sent > 2500, $"only {sent} requests were sent");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
    }

    /// <summary>Values for the operation's fields that take it as far as plain values can (a 2xx where possible).</summary>
    async Task<Dictionary<string, string>> BaselineAsync(HttpClient client, Operation operation, string[] knownIds)
    {
        var baseline = new Dictionary<string, string>();
        foreach (var path in operation.Fields.Where(f => f.In == Place.Path))
            baseline[path.Name] = Candidates(path, knownIds)[0];
        var best = Rank(await SendAsync(client, operation, baseline, $"{operation} (baseline)"));
        foreach (var field in operation.Fields)
        {
            foreach (var candidate in Candidates(field, knownIds))
            {
                var trial = new Dictionary<string, string>(baseline) { [field.Name] = candidate };
                var rank = Rank(await SendAsync(client, operation, trial, $"{operation} (baseline {field.Name} = {candidate})"));
                if (rank >= best)
                {
                    (baseline, best) = (trial, rank);
                    break;
                }
            }
        }
        return baseline;
    }

    static string[] Candidates(Field field, string[] knownIds) => field.Format switch
    {
        "uuid" => knownIds,
        "binary" => [TinyPng, .. Plain],
        _ => Plain,
    };

    static int Rank(HttpStatusCode? status) => status is { } s && (int)s < 300 ? 2 : 1;

    static readonly string TinyPng = Encoding.Latin1.GetString(TestImages.Noise(8, 8, 1));

    /// <summary>Sends one request and checks its answer; null when the value cannot reach the service at all.</summary>
    async Task<HttpStatusCode?> SendAsync(HttpClient client, Operation operation, Dictionary<string, string> values, string what)
    {
        using var request = Build(operation, values);
        if (request is null)
            return null;
        using var response = await client.SendAsync(request);
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status < 500, $"{what} answered {status}: {body[..Math.Min(body.Length, 500)]}\n{logs.Entries.LastOrDefault(e => e.Exception is not null)?.Exception}");
        if (status >= 400)
        {
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{what} answered {status} without a ProblemDetails");
            var problem = JsonElement.Parse(body);
            Assert.Equal(status, problem.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()), $"{what}: a ProblemDetails without a title");
        }
        return response.StatusCode;
    }

    static HttpRequestMessage? Build(Operation operation, Dictionary<string, string> values)
    {
        var url = new StringBuilder(operation.Route);
        foreach (var field in operation.Fields.Where(f => f.In == Place.Path))
        {
            // A NUL in the path is refused by the server (Kestrel's and the test server's decoder) before the service.
            if (values[field.Name].Contains('\0', StringComparison.Ordinal))
                return null;
            url.Replace("{" + field.Name + "}", PercentEncode(values[field.Name]));
        }
        var separator = '?';
        foreach (var field in operation.Fields.Where(f => f.In == Place.Query && values.ContainsKey(f.Name)))
        {
            url.Append(separator).Append(field.Name).Append('=').Append(PercentEncode(values[field.Name]));
            separator = '&';
        }
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), url.ToString());
        foreach (var field in operation.Fields.Where(f => f.In == Place.Header && values.ContainsKey(f.Name)))
        {
            // HTTP carries header values of visible ASCII (Kestrel refuses the rest before the service sees them).
            if (values[field.Name].Any(c => c is < ' ' or > '~'))
            {
                request.Dispose();
                return null;
            }
            request.Headers.TryAddWithoutValidation(field.Name, values[field.Name]);
        }
        if (operation.HasForm)
        {
            var form = new MultipartFormDataContent();
            foreach (var field in operation.Fields.Where(f => f.In is Place.Form or Place.File && values.ContainsKey(f.Name)))
            {
                if (field.In == Place.File)
                    form.Add(new ByteArrayContent(Encoding.Latin1.GetBytes(values[field.Name])), field.Name, "fuzz.bin");
                else
                    form.Add(new StringContent(values[field.Name]), field.Name);
            }
            request.Content = form;
        }
        return request;
    }

    /// <summary>UTF-8 percent-encoding that also carries a lone surrogate (as its three WTF-8 bytes), as a hostile client may.</summary>
    static string PercentEncode(string value)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value.Substring(i++, 2)));
            }
            else if (char.IsSurrogate(value[i]))
            {
                int c = value[i];
                bytes.AddRange([(byte)(0xE0 | (c >> 12)), (byte)(0x80 | ((c >> 6) & 0x3F)), (byte)(0x80 | (c & 0x3F))]);
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
            }
        }
        var encoded = new StringBuilder();
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
                encoded.Append((char)b);
            else
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }

    static string Show(string value) =>
        value.Length > 40 ? $"<{value.Length} chars>" : JsonSerializer.Serialize(value);

    /// <summary>The operations of the live document, with their parameters and multipart fields ($ref resolved).</summary>
    static async Task<List<Operation>> OperationsAsync(HttpClient client)
    {
        var document = JsonElement.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                var fields = new List<Field>();
                if (method.Value.TryGetProperty("parameters", out var parameters))
                {
                    foreach (var parameter in parameters.EnumerateArray())
                    {
                        var place = parameter.GetProperty("in").GetString() switch
                        {
                            "path" => Place.Path,
                            "query" => Place.Query,
                            "header" => Place.Header,
                            var other => throw new InvalidOperationException($"a parameter in {other}: teach the fuzz test to send it"),
                        };
                        fields.Add(new Field(parameter.GetProperty("name").GetString()!, place, FormatOf(parameter.GetProperty("schema"))));
                    }
                }
                if (method.Value.TryGetProperty("requestBody", out var body)
                    && body.GetProperty("content").TryGetProperty("multipart/form-data", out var multipart))
                {
                    var schema = multipart.GetProperty("schema");
                    if (schema.TryGetProperty("$ref", out var reference))
                        schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
                    foreach (var property in schema.GetProperty("properties").EnumerateObject())
                    {
                        var format = FormatOf(property.Value);
                        fields.Add(new Field(property.Name, format == "binary" ? Place.File : Place.Form, format));
                    }
                }
                operations.Add(new Operation(method.Name.ToUpperInvariant(), path.Name, fields));
            }
        }
        return operations;
    }

    static string? FormatOf(JsonElement schema) => schema.TryGetProperty("format", out var format) ? format.GetString() : null;
}
