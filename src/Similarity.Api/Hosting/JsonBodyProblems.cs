using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Template;

namespace Similarity.Hosting;

/// <summary>
/// A JSON body or a media type the endpoint cannot take, in the API's words: an unknown member is named (with the
/// query parameter of that name when the endpoint has one: <c>{"k": 5}</c> meant <c>?k=5</c>), a value that does not
/// bind is named by its path with what it should have been, and a 415 lists the media types the route takes.
/// Bodies are read with <c>JsonUnmappedMemberHandling.Disallow</c> (see <see cref="ServiceDefaults"/>), so
/// a JSON body is as strict as a query string.
/// </summary>
internal static partial class JsonBodyProblems
{
    [GeneratedRegex("""^The JSON property '(?<name>.+)' could not be mapped to any \.NET member""")]
    private static partial Regex UnmappedMember();

    [GeneratedRegex("""could not be converted to (?<type>.+?)\. Path:""")]
    private static partial Regex ConvertedTo();

    /// <summary>The problem for a body that did not bind; the JSON path (<c>$.positive[0]</c>) becomes the field (<c>positive[0]</c>).</summary>
    public static HttpValidationProblemDetails Unbound(JsonException json, Endpoint? endpoint)
    {
        var field = FieldOf(json.Path);
        if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
        {
            // The path names the member itself ($.k, $.weights.x): one at the top level may be a query parameter.
            var name = unmapped.Groups["name"].Value;
            var query = field == name && endpoint is not null && QueryParameters.NamesOf(endpoint) is { } names && names.Contains(name)
                ? $" '{name}' is a query parameter of this endpoint: send it in the query string (?{name}=…)." : "";
            return Problem(field, $"Unknown member '{name}' in the JSON body.{query}",
                $"The JSON body has a member this endpoint does not take: '{field}'.{query}");
        }
        var expected = ConvertedTo().Match(json.Message) is { Success: true } converted
            ? ClientErrorExceptionHandler.Expected(TypeName(converted.Groups["type"].Value)) : "valid JSON";
        var at = json.LineNumber is { } line ? $" (line {line + 1}, byte {json.BytePositionInLine + 1})" : "";
        var reason = expected == "valid JSON"
            ? $"The body is not valid JSON{at}." : $"The value of {field} is not {expected}{at}.";
        return Problem(field, reason, reason);
    }

    /// <summary>
    /// The 415's detail: what was sent and what the route takes. Routing answers a media type no endpoint of the path
    /// takes with its own 415 endpoint, so the route's endpoints are looked up by path and method.
    /// </summary>
    public static string UnsupportedMediaType(HttpContext context)
    {
        var sent = string.IsNullOrEmpty(context.Request.ContentType) ? "no Content-Type" : $"'{context.Request.ContentType.Split(';')[0].Trim()}'";
        var takes = context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase) == true
                && new TemplateMatcher(TemplateParser.Parse(endpoint.RoutePattern.RawText ?? ""), []).TryMatch(context.Request.Path, []))
            .SelectMany(endpoint => endpoint.Metadata.GetOrderedMetadata<IAcceptsMetadata>().SelectMany(accepts => accepts.ContentTypes))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return takes.Count == 0
            ? $"This route does not take a body of {sent}."
            : $"This route takes {string.Join(" or ", takes)}; the request was sent as {sent}.";
    }

    static HttpValidationProblemDetails Problem(string field, string error, string detail) =>
        new(new Dictionary<string, string[]> { [field] = [error] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "One or more validation errors occurred.",
            Detail = detail,
        };

    static string FieldOf(string? path) => path is null or "$" or "" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>System.Nullable`1[[System.Int32, ...]], System.Int32 or System.String[] → the short name Expected knows.</summary>
    static string TypeName(string type)
    {
        if (type.Contains("Dictionary", StringComparison.Ordinal))
            return "object";
        if (type.EndsWith("[]", StringComparison.Ordinal) || type.Contains("List", StringComparison.Ordinal))
            return "array";
        var inner = type.Contains("[[", StringComparison.Ordinal) ? type[(type.IndexOf("[[", StringComparison.Ordinal) + 2)..].Split(',')[0] : type;
        return inner.Split('.')[^1];
    }
}
