using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.Database;

/// <summary>
/// The OpenAPI document's word on <see cref="Consistency"/>: a write's successful answers name <c>X-Consistency-Token</c>,
/// a read's name <c>X-Served-By</c>, both present only when the database has standbys.
/// </summary>
internal sealed class ConsistencyOpenApi : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var method = context.ApiDescription.HttpMethod ?? "";
        var write = method is "POST" or "PUT" or "PATCH" or "DELETE";
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (!status.StartsWith('2') || response is not OpenApiResponse answer)
                continue;
            answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
            answer.Headers[write ? Consistency.TokenHeader : ServedBy.HeaderName] = write
                ? new OpenApiHeader
                {
                    Description = "The primary's WAL position once this write committed (only when the database has standbys). Send it back " +
                        "as the X-Consistency-Token request header on a following read, and that read sees this write.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 40 },
                    Example = System.Text.Json.Nodes.JsonValue.Create("0/3A1B2C8"),
                }
                : new OpenApiHeader
                {
                    Description = "standby or primary: which kind of database host answered (only when the database has standbys).",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 7 },
                    Example = System.Text.Json.Nodes.JsonValue.Create("standby"),
                };
        }
    }
}
