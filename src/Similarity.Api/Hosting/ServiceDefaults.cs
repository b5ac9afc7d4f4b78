using Microsoft.AspNetCore.HttpLogging;
using Microsoft.OpenApi;

namespace Similarity.Hosting;

/// <summary>What every endpoint gets: ProblemDetails for each error, Swagger, one log line per request.</summary>
public static class ServiceDefaults
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier);
        builder.Services.AddExceptionHandler<ClientErrorExceptionHandler>();
        builder.Services.AddExceptionHandler<ServiceBusyExceptionHandler>();
        // A query or route value that does not bind (k=abc) throws, so the handler answers with a ProblemDetails
        // naming the parameter instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        builder.Services.AddHttpLogging(options =>
        {
            options.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath
                | HttpLoggingFields.RequestQuery | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            options.CombineLogs = true;
        });

        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<SecurityOptions>, SecurityOptions.Validator>();

        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Similarity",
                Version = "v1",
                Description = "Which products look and read alike: ONNX image and text encoders, attention fusion, pgvector top-k.",
            });
            options.AddSecurityDefinition(AdminKey.HeaderName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AdminKey.HeaderName,
                Description = "The admin key (Similarity:AdminApiKey) that write endpoints require.",
            });
            options.OperationFilter<AdminKey.SwaggerOperationFilter>();
        });
        return builder;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpLogging();
        app.UseSwagger();
        app.UseSwaggerUI(options => options.DocumentTitle = "Similarity");
        return app;
    }
}
