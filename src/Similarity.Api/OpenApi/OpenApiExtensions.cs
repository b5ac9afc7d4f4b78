using Similarity.Hosting;

namespace Similarity.OpenApi;

public static class OpenApiExtensions
{
    /// <summary>
    /// What the OpenAPI document says of each feature's parameters and bodies. It knows every feature's routes, so
    /// it sits above them all; the document itself (Swagger, the admin key, problems) is set up by the service defaults.
    /// </summary>
    public static WebApplicationBuilder AddOpenApiDescriptions(this WebApplicationBuilder builder)
    {
        builder.Services.ConfigureSwaggerGen(options =>
        {
            // In this order: the problems filter documents a 400 where the parameters filter left parameters.
            options.OperationFilter<OpenApiParameters>();
            options.OperationFilter<OpenApiMediaTypes>();
            options.OperationFilter<OpenApiProblems>();
            options.OperationFilter<OpenApiBodies>();
            options.SchemaFilter<OpenApiSchemas>();
        });
        return builder;
    }
}
