using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.Hosting;

/// <summary>
/// Every error an operation can answer is documented as what it is: a ProblemDetails (RFC 9457), a validation
/// problem for 400s naming each field, with <c>Retry-After</c> on 429 and 503. A 400 is added where an operation
/// takes input, a 500 everywhere (never meant to happen; its traceId finds it in the log).
/// </summary>
public sealed class OpenApiProblems : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Responses ??= new OpenApiResponses();
        var takesInput = operation.Parameters?.Count > 0 || operation.RequestBody is not null;
        if (takesInput)
            operation.Responses.TryAdd("400", new OpenApiResponse { Description = "The input is not valid: the errors name each field at fault." });
        operation.Responses.TryAdd("500", new OpenApiResponse { Description = "An unexpected error (a bug): the log has it under the answer's traceId." });

        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        var validation = context.SchemaGenerator.GenerateSchema(typeof(HttpValidationProblemDetails), context.SchemaRepository);
        foreach (var (status, response) in operation.Responses.ToList())
        {
            if (!int.TryParse(status, out var code) || code < 400 || response is not OpenApiResponse concrete)
                continue;
            concrete.Description = string.IsNullOrEmpty(concrete.Description) || concrete.Description is "Bad Request" or "Client Error" or "Server Error"
                ? DescriptionOf(code) : concrete.Description;
            concrete.Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/problem+json"] = new OpenApiMediaType { Schema = code == 400 ? validation : problem },
            };
            if (code is 429 or 503)
            {
                concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                concrete.Headers["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before trying again.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "0", Maximum = "3600" },
                };
            }
        }
    }

    static string DescriptionOf(int status) => status switch
    {
        400 => "The input is not valid: the errors name each field at fault.",
        401 => "The API key (X-Api-Key) is missing (required) or not recognised.",
        403 => "The API key's role does not allow this route (the detail names the role it needs).",
        404 => "No such resource.",
        409 => "The resource's state does not allow it (the detail says why).",
        413 => "The input is over a limit (the detail names the setting).",
        415 => "The input is not of a supported type.",
        422 => "The request cannot be processed as sent (the detail says why).",
        429 => "Too many requests: over a rate or concurrency limit (the detail names it).",
        503 => "The service cannot take this now (a queue is full, or the database is restarting).",
        _ => "An unexpected error (a bug): the log has it under the answer's traceId.",
    };
}
