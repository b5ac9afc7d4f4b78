namespace Similarity.Bench;

/// <summary>
/// <c>openapi --out FILE</c>, for <c>./similarity.sh lint</c>: the OpenAPI document of a freshly started service (tiny
/// models, the checkout's own database), written to FILE for Spectral.
/// </summary>
public static class OpenApiDocument
{
    public static async Task<int> WriteAsync(BenchArgs args)
    {
        var place = new BenchPlace();
        await using var service = await ServiceProcess.StartAsync(place, place.Cluster, place.Manifest("tiny"), "http://127.0.0.1:18095", "lint-api.log");
        using var http = new HttpClient { BaseAddress = service.Url };
        await File.WriteAllTextAsync(args.Get("out"), await http.GetStringAsync("/swagger/v1/swagger.json"));
        return 0;
    }
}
