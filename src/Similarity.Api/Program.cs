using Similarity.Catalog;
using Similarity.Database;
using Similarity.Embed;
using Similarity.Encoders;
using Similarity.Feedback;
using Similarity.Health;
using Similarity.Hosting;
using Similarity.Imports;
using Similarity.Insight;
using Similarity.Keys;
using Similarity.Models;
using Similarity.OpenApi;
using Similarity.Pages;
using Similarity.Similar;

if (args is [HealthProbe.Flag])
    return await HealthProbe.RunAsync();

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRateLimits();
builder.AddDatabase();
builder.AddKeys();
builder.AddEncoders();
builder.AddModels();
builder.AddCatalog();
builder.AddFeedback();
builder.AddSimilar();
builder.AddInsight();
builder.AddImports();
builder.AddOpenApiDescriptions();

var app = builder.Build();

app.UseServiceDefaults();
app.UseRateLimits();
app.UseConsistency();
app.UsePages();
app.MapHealthApi();
app.MapEmbedApi();
app.MapItemsApi();
app.MapSimilarApi();
app.MapRulesApi();
app.MapFeedbackLearningApi();
app.MapImportsApi();
app.MapImportChecksApi();
app.MapInsightApi();
app.MapModelsApi();
app.MapKeysApi();
app.MapExperimentsApi();
app.MapFeedbackStatsApi();
app.MapEventsApi();

await app.RunAsync();
return 0;

/// <summary>The entry point, public so integration tests can host it with WebApplicationFactory.</summary>
public partial class Program;
