using Similarity.Cli;
using Spectre.Console;

// similarity-import CATALOG [--images ZIP] [--url URL]; the admin key comes from SIMILARITY_ADMIN_API_KEY.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: similarity-import CATALOG [--images ZIP] [--url http://127.0.0.1:8080]   (key in SIMILARITY_ADMIN_API_KEY)");
    return 2;
}
string? images = null;
var url = "http://127.0.0.1:8080";
for (var i = 1; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--images": images = args[i + 1]; break;
        case "--url": url = args[i + 1]; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
var key = Environment.GetEnvironmentVariable("SIMILARITY_ADMIN_API_KEY") ?? "";
using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
http.DefaultRequestHeaders.Add("X-Api-Key", key);
return await new ImportCommand(http, AnsiConsole.Console, TimeSpan.FromMilliseconds(500)).RunAsync(args[0], images, CancellationToken.None);
