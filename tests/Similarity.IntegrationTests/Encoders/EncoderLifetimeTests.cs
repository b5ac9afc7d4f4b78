using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Similarity.Encoders;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

public sealed class EncoderLifetimeTests
{
    static readonly TimeSpan Stuck = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Encoders_are_disposed_when_the_host_stops()
    {
        EmbeddingPipeline pipeline;
        await using (var app = new SimilarityApp())
        {
            await ((IAsyncLifetime)app).InitializeAsync();
            try
            {
                pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
                Assert.Equal(pipeline.Text.Dimension, (await pipeline.Text.EncodeAsync("before the stop", default)).Length);
            }
            finally
            {
                await ((IAsyncLifetime)app).DisposeAsync();
            }
        }
        Assert.Throws<ObjectDisposedException>(() => { _ = pipeline.Text.EncodeAsync("after the stop", default); });
        Assert.Throws<ObjectDisposedException>(() => { _ = pipeline.Image.EncodeAsync(TestImages.Noise(64, 64, seed: 1), "image", default); });
    }

    /// <summary>The encoders' log sink fails on errors, so a batch failure cannot even be told: the loop cannot go on.</summary>
    sealed class BrokenEncoderLogApp : SimilarityApp
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.AddProvider(new BrokenSink()));
        }

        sealed class BrokenSink : ILoggerProvider, ILogger
        {
            public ILogger CreateLogger(string categoryName) => categoryName == "Similarity.Encoders" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Error)
                    throw new IOException("The log sink is gone.");
            }

            public void Dispose()
            {
            }
        }
    }

    [Fact]
    public async Task A_batching_loop_that_cannot_go_on_makes_ready_unhealthy_naming_it_and_its_requests_503()
    {
        await using var app = new BrokenEncoderLogApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        try
        {
            var client = app.CreateClient();
            var pipeline = app.Services.GetRequiredService<Similarity.Models.ModelSets>().Live.Pipeline;
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

            pipeline.Image.ModelRan += _ => throw new InvalidOperationException("an observer failed");
            var failed = await client.PostAsync("/embed", EmbedClient.Form(TestImages.Noise(64, 64, seed: 2)));
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.True(await Task.Run(() => SpinWait.SpinUntil(() => pipeline.Image.Fault is not null, Stuck)), "the loop should record its fault");

            var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var models = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("entries").GetProperty("models");
            Assert.Equal("Unhealthy", models.GetProperty("status").GetString());
            Assert.Contains("image encoder's batching loop has stopped", models.GetProperty("description").GetString(), StringComparison.Ordinal);

            var refused = await client.PostAsync("/embed", EmbedClient.Form(TestImages.Noise(64, 64, seed: 3)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("The image encoder has stopped.", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
            // The text encoder's loop is its own and still runs.
            Assert.Equal(pipeline.Text.Dimension, (await client.EmbedAsync(text: "still answered")).Text!.Length);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
