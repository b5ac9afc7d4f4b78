using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Similarity.Hosting;

/// <summary><c>Similarity:Swagger</c>: whether the OpenAPI document and Swagger UI are served.</summary>
public sealed class SwaggerSettings
{
    public const string Section = "Similarity:Swagger";

    /// <summary>Serve /swagger/v1/swagger.json and Swagger UI at /swagger (on: ad-hoc checks are a use).</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// What every endpoint gets: ProblemDetails for each error, the admin key, security headers, Swagger, one log
/// line per request.
/// </summary>
public static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        // Which server answers is nobody's business.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        // The W3C trace id, the one an incoming traceparent set and the log lines of the request carry.
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
            // The framework's own 415 (a JSON body to a form route) says nothing: name what the route takes.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
                context.ProblemDetails.Detail = JsonBodyProblems.UnsupportedMediaType(context.HttpContext);
        });
        builder.Services.AddExceptionHandler<ClientErrorExceptionHandler>();
        builder.Services.AddExceptionHandler<ServiceBusyExceptionHandler>();
        // A query or route value that does not bind (k=abc) throws, so the handler answers with a ProblemDetails
        // naming the parameter instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        // A JSON body is as strict as a query string: an unknown member ({"k": 5} in a body, a typo) is a 400
        // naming it (JsonBodyProblems), not silently ignored. PATCH /items reads its merge patch itself.
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow);

        builder.AddObservability();
        builder.Services.AddSingleton<SimilarityMetrics>();
        builder.AddCrossOrigin();

        builder.AddAdminKey();

        builder.Services.AddOptions<SwaggerSettings>().BindConfiguration(SwaggerSettings.Section);
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Similarity",
                Version = "v1",
                Description = "Which products look and read alike: ONNX image and text encoders, attention fusion, pgvector top-k.",
                Contact = new OpenApiContact { Name = "Similarity maintainers (see the README of this deployment's source)" },
            });
            options.AddSecurityDefinition(AdminKey.HeaderName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AdminKey.HeaderName,
                Description = "An API key: the bootstrap admin key (Similarity:AdminApiKey) or one created with POST /keys (role admin or storefront).",
            });
            options.OperationFilter<AdminKey.SwaggerOperationFilter>();
        });
        return builder;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseRequestLog();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseCors();
        app.MapObservability();
        if (app.Services.GetRequiredService<IOptions<SwaggerSettings>>().Value.Enabled)
        {
            // The document names the server it was read from, so generated clients and Swagger UI call the same place.
            app.UseSwagger(options => options.PreSerializeFilters.Add((document, request) =>
                document.Servers = [new OpenApiServer
                {
                    Url = $"{request.Scheme}://{request.Host.Value}{request.PathBase}",
                    Description = "The deployment this document was read from (production, staging or a local development copy).",
                    Extensions = new Dictionary<string, IOpenApiExtension> { ["x-internal"] = new JsonNodeExtension(false) },
                }]));
            app.UseSwaggerUI(options =>
            {
                options.DocumentTitle = "Similarity";
                options.EnablePersistAuthorization(); // the admin key survives a reload (kept in the browser's local storage)
            });
        }
        // Ahead of the endpoints, so an admin route without its key is refused before its body is bound.
        app.UseAuthentication();
        app.UseAuthorization();
        // After the key check: an admin route without its key is a 401 whatever its query.
        app.UseKnownQueryParametersOnly();
        return app;
    }
}
