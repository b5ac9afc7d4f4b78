using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.Hosting;

/// <summary>The admin-key check for write endpoints: <c>X-Api-Key</c> must equal <c>Similarity:AdminApiKey</c>.</summary>
public static class AdminKey
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>Requires the admin key on every endpoint of the builder; with no key configured, refuses all.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequiresAdminKey());
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var configured = http.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue.AdminApiKey;
            var given = http.Request.Headers[HeaderName].ToString();
            if (!Matches(configured, given))
            {
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status401Unauthorized,
                    title: "Admin key required.",
                    detail: configured.Length == 0
                        ? "Writes are refused: the service has no Similarity:AdminApiKey configured."
                        : $"Send the admin key in the {HeaderName} header.");
            }
            return await next(context);
        });
        return builder;
    }

    internal static bool Matches(string configured, string given) =>
        configured.Length > 0
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    sealed record RequiresAdminKey;

    /// <summary>Marks admin-key endpoints in the OpenAPI document so Swagger UI sends the key.</summary>
    internal sealed class SwaggerOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RequiresAdminKey>().Any())
                return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(HeaderName, context.Document)] = [],
            });
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or wrong admin key." });
        }
    }
}
