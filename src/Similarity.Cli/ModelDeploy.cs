using System.IO.Compression;
using System.Net.Http.Headers;

namespace Similarity.Cli;

/// <summary>
/// Sends a model set's folder (manifest.json and the files it names) to a running service as its candidate:
/// the folder zipped at its root, <c>PUT /models/{name}</c> as <c>application/zip</c>. The zip is a temporary file,
/// removed whatever the answer.
/// </summary>
public static class ModelDeploy
{
    /// <summary>What <c>PUT /models/{name}</c> answered: its status and its body as text.</summary>
    public sealed record Answer(int Status, string Body)
    {
        public bool Created => Status == 201;
    }

    /// <summary>The set's name: <paramref name="name"/> when given, else the folder's own name.</summary>
    public static string NameOf(string directory, string? name) =>
        string.IsNullOrWhiteSpace(name) ? new DirectoryInfo(Path.GetFullPath(directory)).Name : name;

    public static async Task<Answer> PutAsync(HttpClient http, string directory, string name, CancellationToken ct)
    {
        var zip = Path.Combine(Path.GetTempPath(), $"similarity-deploy-{Guid.NewGuid():N}.zip");
        try
        {
            ZipFile.CreateFromDirectory(directory, zip, CompressionLevel.Optimal, includeBaseDirectory: false);
            await using var body = File.OpenRead(zip);
            using var content = new StreamContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
            using var response = await http.PutAsync(new Uri($"/models/{Uri.EscapeDataString(name)}", UriKind.Relative), content, ct);
            return new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }
        finally
        {
            File.Delete(zip);
        }
    }
}
