using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Similarity.Hosting;

/// <summary>
/// Turns exceptions that mean "the client's input is wrong" into a 4xx ProblemDetails: the service's own
/// <see cref="InputRejectedException"/> (naming the field, as a validation problem) and the framework's
/// bad-request exceptions (malformed form, body over Kestrel's limit). A client's mistake is never a 500.
/// </summary>
internal sealed partial class ClientErrorExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    // ASP.NET Core's binding failure, e.g. Failed to bind parameter "Nullable<int> K" from "ten". Mapped to the
    // client's (camel-case) parameter name so the answer names what to fix; a test pins this wording.
    [GeneratedRegex("""^Failed to bind parameter "(?<type>[^"]+) (?<name>\w+)" from "(?<value>[^"]*)"\.$""")]
    private static partial Regex UnboundParameter();

    /// <summary>What a parameter of a .NET type takes, in the API's words: "Nullable&lt;int&gt;" → "a whole number".</summary>
    internal static string Expected(string type)
    {
        var bare = type.StartsWith("Nullable<", StringComparison.Ordinal) ? type["Nullable<".Length..^1] : type.TrimEnd('?');
        return bare switch
        {
            "int" or "Int32" or "long" or "Int64" or "short" or "Int16" => "a whole number",
            "decimal" or "Decimal" or "double" or "Double" or "float" or "Single" => "a number (with a dot before any decimals)",
            "bool" or "Boolean" => "true or false",
            "Guid" => "an id like 0193c3a2-7b4e-7d41-9c55-3f1e2a9b8c7d",
            "DateTime" or "DateTimeOffset" => "a date and time like 2026-11-23T12:00:00Z",
            "string" or "String" => "a JSON string",
            "array" => "a JSON array",
            "object" => "a JSON object",
            _ => "a value of the right kind",
        };
    }

    /// <summary>A binding failure in the API's words, in <c>errors</c> and <c>detail</c> alike: the framework's message names .NET types.</summary>
    static HttpValidationProblemDetails Unbound(Match match)
    {
        var name = JsonNamingPolicy.CamelCase.ConvertName(match.Groups["name"].Value);
        var expected = Expected(match.Groups["type"].Value);
        return new HttpValidationProblemDetails(new Dictionary<string, string[]>
        {
            [name] = [$"'{match.Groups["value"].Value}' is not {expected}."],
        })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more validation errors occurred.",
            Detail = $"{name} takes {expected}.",
        };
    }

    static int StatusOf(InputRejection reason) => reason switch
    {
        InputRejection.OverLimit => StatusCodes.Status413PayloadTooLarge,
        InputRejection.UnsupportedType => StatusCodes.Status415UnsupportedMediaType,
        InputRejection.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status400BadRequest,
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            InputRejectedException rejected => new HttpValidationProblemDetails(
                new Dictionary<string, string[]> { [rejected.Field] = [rejected.Message] })
            {
                Status = StatusOf(rejected.Reason),
                Title = rejected.Reason switch
                {
                    InputRejection.OverLimit => "The input is over a limit.",
                    InputRejection.UnsupportedType => "The input is not of a supported type.",
                    _ => "One or more validation errors occurred.",
                },
                Detail = rejected.Message,
            },
            BadHttpRequestException bad when UnboundParameter().Match(bad.Message) is { Success: true } match => Unbound(match),
            BadHttpRequestException { InnerException: JsonException json } => JsonBodyProblems.Unbound(json, context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint()),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "The input is not of a supported type.",
                Detail = JsonBodyProblems.UnsupportedMediaType(context),
            },
            BadHttpRequestException bad => new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is over the limit." : "The request could not be read.",
                Detail = bad.Message,
            },
            InvalidDataException invalid => new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest, Title = "The request could not be read.", Detail = invalid.Message,
            },
            _ => null,
        };
        if (problem is null)
            return false;

        context.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception, ProblemDetails = problem });
    }
}
