using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>The models run below serving: on threads whose Linux nice value is the configured one, ONNX Runtime's own threads included.</summary>
public sealed class EncoderPriorityTests(EncoderPriorityTests.App app) : IClassFixture<EncoderPriorityTests.App>
{
    /// <summary>Not the default (10), and used by no other test, so the threads at this value are this app's.</summary>
    const int Nice = 13;

    public sealed class App : SimilarityApp
    {
        // Two threads per session: ONNX Runtime starts one pool thread per session beside the caller's.
        protected override IEnumerable<KeyValuePair<string, string>> Settings =>
            [new("Similarity:Inference:EncoderNice", $"{Nice}"), new("Similarity:Inference:IntraOpThreads", "2")];
    }

    [Fact]
    public async Task An_embed_runs_its_models_on_threads_at_the_configured_nice_value()
    {
        var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
        var seen = new ConcurrentBag<(string Model, int Nice)>();
        void OnImage(ModelRun _) => seen.Add(("image", OwnNice()));
        void OnText(ModelRun _) => seen.Add(("text", OwnNice()));
        pipeline.Image.ModelRan += OnImage;
        pipeline.Text.ModelRan += OnText;
        try
        {
            var answer = await app.CreateClient().EmbedAsync(TestImages.Noise(240, 240, seed: 7, ".jpg"), "a red cotton shirt");
            Assert.NotEmpty(answer.Fused);
        }
        finally
        {
            pipeline.Image.ModelRan -= OnImage;
            pipeline.Text.ModelRan -= OnText;
        }
        Assert.Contains(seen, s => s.Model == "image");
        Assert.Contains(seen, s => s.Model == "text");
        Assert.All(seen, s => Assert.Equal(Nice, s.Nice));
        Assert.Equal(0, OwnNice()); // the test's own thread, as serving's, is untouched

        // The encoder threads and ONNX Runtime's pool threads (one per session here), which inherit the name and
        // nice value of the encoder thread that created their session.
        var atNice = Tasks().Count(t => t.Name == EncoderThreads.ThreadName && t.Nice == Nice);
        Assert.True(atNice >= EncoderThreads.Threads + 2,
            $"{atNice} threads named '{EncoderThreads.ThreadName}' run at nice {Nice}; expected the {EncoderThreads.Threads} encoder threads and a pool thread per session");
    }

    static int OwnNice() => ParseStat(File.ReadAllText("/proc/thread-self/stat")).Nice;

    static IEnumerable<(string Name, int Nice)> Tasks()
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread ended between the listing and the read
            }
            yield return ParseStat(stat);
        }
    }

    /// <summary>proc(5): "tid (comm) state ppid …", the nice value the 19th field; comm may hold spaces, hence the last ')'.</summary>
    static (string Name, int Nice) ParseStat(string stat)
    {
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        return (stat[(open + 1)..close], int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture));
    }
}
