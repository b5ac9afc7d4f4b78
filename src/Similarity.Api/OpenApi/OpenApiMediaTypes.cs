using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.OpenApi;

/// <summary>
/// Every answer's media type and every error a body can bring: a route that takes a body answers 415 when it is
/// sent as another media type (the detail names those it takes), and the picture route's 200 is a JPEG. Runs
/// before <see cref="Hosting.OpenApiProblems"/>, which gives each error its ProblemDetails content.
/// </summary>
internal sealed class OpenApiMediaTypes : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Responses ??= new OpenApiResponses();
        if (operation.RequestBody is not null)
            operation.Responses.TryAdd("415", new OpenApiResponse { Description = "The body is not of a media type this route takes (the detail names them)." });
        if (operation.OperationId == "GetItemImage" && operation.Responses.TryGetValue("200", out var ok) && ok is OpenApiResponse picture)
        {
            picture.Description = "The picture: a JPEG, upright, metadata stripped.";
            picture.Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["image/jpeg"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", MaxLength = 20 * 1024 * 1024 } },
            };
        }
    }
}
