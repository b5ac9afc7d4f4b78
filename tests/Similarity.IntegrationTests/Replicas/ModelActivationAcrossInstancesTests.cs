using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Similarity.Models;
using Xunit.Abstractions;
using static Similarity.IntegrationTests.Operations.ModelSetTesting;

namespace Similarity.IntegrationTests.Replicas;

/// <summary>
/// Two instances on one database: a set deployed and activated through the first is embedded by whichever leads the
/// embedder and goes live on the second within 5 s, while the second answers /similar; no answer is anything but one
/// set's exact top ten.
/// </summary>
public sealed class ModelActivationAcrossInstancesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_set_activated_on_one_instance_is_live_on_the_other_within_5_s_and_no_answer_mixes_sets()
    {
        var first = await StartWithCatalogAsync();
        var second = new App(first.Database, first.SpoolPath, "1000");
        try
        {
            await second.StartAsync();
            var admin = first.CreateAdminClient();
            var liveName = await LiveNameAsync(admin);
            await DeployAndEmbedAsync(admin);
            var secondSets = second.Services.GetRequiredService<ModelSets>();
            // The deployment and the embedding's end, made on the first instance (or by the second as the embedder's leader), are followed here.
            var firstSets = first.Services.GetRequiredService<ModelSets>();
            foreach (var (sets, which) in new[] { (firstSets, "first"), (secondSets, "second") })
                await WaitUntilAsync(() => sets.Standby is { Status: ModelStatus.Ready } s && s.Set.Name == Candidate, $"the {which} instance's standby set ready");

            var answers = new ConcurrentBag<(string Sku, HttpStatusCode Status, List<string> Results)>();
            using var stop = new CancellationTokenSource();
            var client = second.CreateClient();
            var readers = Enumerable.Range(0, 3).Select(reader => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var sku = ItemOf((reader * 7 + n) % Items).Sku;
                    using var response = await client.GetAsync($"/similar/{sku}");
                    var results = response.IsSuccessStatusCode ? Skus((await response.Content.ReadFromJsonAsync<Similar.SimilarApi.SimilarResponse>())!) : [];
                    answers.Add((sku, response.StatusCode, results));
                }
            })).ToList();

            await WaitUntilAsync(() => answers.Count >= 30, "answers before the switch");
            await ActivateAsync(first, admin, Candidate);
            var switched = Stopwatch.StartNew();
            await WaitUntilAsync(() => secondSets.Live.Name == Candidate, "the second instance following the switch");
            var followed = switched.Elapsed;
            var seen = answers.Count;
            await WaitUntilAsync(() => answers.Count >= seen + 30, "answers after the switch");
            await stop.CancelAsync();
            await Task.WhenAll(readers);

            var vectors = await ReadVectorsAsync(first.Database);
            // After the switch the candidate's vectors are the live columns and the old set's the standby ones.
            var underNew = vectors.ToDictionary(v => v.Sku, v => TopTen(vectors, v.Sku, x => x.Live));
            var underOld = vectors.ToDictionary(v => v.Sku, v => TopTen(vectors, v.Sku, x => x.Standby));
            var refused = answers.Count(a => a.Status != HttpStatusCode.OK);
            output.WriteLine($"followed in {followed.TotalMilliseconds:F0} ms; answers {answers.Count}, not 200: {refused} ({string.Join(", ", answers.Where(a => a.Status != HttpStatusCode.OK).Select(a => (int)a.Status).Distinct())})");
            Assert.True(followed < TimeSpan.FromSeconds(5), $"the second instance followed after {followed}");
            // A page asked in the instant between the switch's commit and this instance following it catches up and asks again.
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
            Assert.All(answers.Where(a => a.Status == HttpStatusCode.OK), a => Assert.True(a.Results.SequenceEqual(underNew[a.Sku]) || a.Results.SequenceEqual(underOld[a.Sku]),
                $"{a.Sku}: [{string.Join(", ", a.Results)}] is neither set's answer"));
            Assert.Contains(answers, a => a.Results.SequenceEqual(underNew[a.Sku]) && !a.Results.SequenceEqual(underOld[a.Sku]));
            Assert.Equal(liveName, secondSets.Standby?.Set.Name);
        }
        finally
        {
            await second.DisposeAsync();
            await ((IAsyncLifetime)first).DisposeAsync();
        }
    }

    static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} within 2 minutes");
            await Task.Delay(10);
        }
    }
}
