using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;

namespace Similarity.Hosting;

/// <summary>
/// Refuses a query parameter an endpoint does not take (<c>limit=2</c> where the parameter is <c>k</c>) with a 400
/// naming it, instead of silently ignoring it, and a fractional number that is not plain digits with a dot
/// (<c>priceMax=1,50</c>, which the framework's invariant-culture binding would read as 150). Each endpoint's
/// parameters are read once from its own handler — the simple-typed ones not bound from the route, the form, a
/// header or the services, and those of an <c>[AsParameters]</c> record — so a new endpoint is covered without a
/// list to keep in step.
/// </summary>
public static partial class QueryParameters
{
    /// <summary>The query names an endpoint binds, and the types of those that are numbers with decimals.</summary>
    sealed record Taken(HashSet<string> Names, HashSet<string> Fractional);

    static readonly ConcurrentDictionary<RouteEndpoint, Taken?> TakenByEndpoint = new();

    // Digits, a dot before any decimals and an optional exponent: no thousands separator, no comma decimal, no
    // spaces, no culture ("prices with a dot decimal only").
    [GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainNumber();

    /// <summary>The query parameter names an endpoint takes (whatever their case); null for endpoints that are not minimal-API handlers.</summary>
    internal static IReadOnlySet<string>? NamesOf(Endpoint endpoint) =>
        endpoint is RouteEndpoint route ? TakenByEndpoint.GetOrAdd(route, TakenBy)?.Names : null;

    public static WebApplication UseKnownQueryParametersOnly(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint() is RouteEndpoint endpoint && http.Request.Query.Count > 0
                && TakenByEndpoint.GetOrAdd(endpoint, TakenBy) is { } taken)
            {
                if (http.Request.Query.Keys.Where(k => !taken.Names.Contains(k)).Order(StringComparer.Ordinal).ToArray() is [_, ..] unknown)
                {
                    await RefuseAsync(http, "Unknown query parameters.", unknown.ToDictionary(name => name, name => new[]
                    {
                        taken.Names.Count == 0
                            ? $"Unknown query parameter '{name}': this endpoint takes none."
                            : $"Unknown query parameter '{name}': this endpoint takes {string.Join(", ", taken.Names.Select(JsonNamingPolicy.CamelCase.ConvertName).Order(StringComparer.Ordinal))}.",
                    }));
                    return;
                }
                if (NotPlainNumbers(http.Request.Query, taken) is { Count: > 0 } malformed)
                {
                    await RefuseAsync(http, "One or more validation errors occurred.", malformed,
                        $"{string.Join(" and ", malformed.Keys)} {(malformed.Count == 1 ? "takes a number" : "take numbers")} written with a dot before any decimals, e.g. 1.50.");
                    return;
                }
            }
            await next(http);
        });
        return app;
    }

    static async Task RefuseAsync(HttpContext http, string title, Dictionary<string, string[]> errors, string? detail = null)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest, Title = title, Detail = detail },
        });
    }

    /// <summary>
    /// The fractional parameters whose text is not a plain number, by the name the client sent. Each value is read
    /// on its own: the framework would join <c>priceMax=1&amp;priceMax=2</c> into "1,2" and read that as 12.
    /// </summary>
    static Dictionary<string, string[]> NotPlainNumbers(IQueryCollection query, Taken taken)
    {
        var malformed = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, values) in query)
        {
            if (!taken.Fractional.Contains(name))
                continue;
            if (values.Count > 1)
                malformed[name] = [$"{name} takes one value, not {values.Count}."];
            else if (values.ToString() is { Length: > 0 } text && !PlainNumber().IsMatch(text))
            {
                var quoted = text.Length > 100 ? text[..100] + "…" : text;
                malformed[name] = [text.Contains(',', StringComparison.Ordinal)
                    ? $"'{quoted}' is not a number: write {name} with a dot before any decimals, not a comma."
                    : $"'{quoted}' is not {ClientErrorExceptionHandler.Expected("decimal")}."];
            }
        }
        return malformed;
    }

    /// <summary>The query names a minimal-API handler binds; null for endpoints that are not such handlers (static files, Swagger).</summary>
    static Taken? TakenBy(RouteEndpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is not { } handler)
            return null;
        var route = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var taken = new Taken(new HashSet<string>(StringComparer.OrdinalIgnoreCase), new HashSet<string>(StringComparer.OrdinalIgnoreCase));
        foreach (var parameter in handler.GetParameters())
        {
            if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
            {
                foreach (var constructorParameter in parameter.ParameterType.GetConstructors().Single().GetParameters())
                    Add(taken, route, constructorParameter, constructorParameter.ParameterType, constructorParameter.Name!);
            }
            else
                Add(taken, route, parameter, parameter.ParameterType, parameter.Name!);
        }
        return taken;
    }

    static void Add(Taken taken, HashSet<string> route, ICustomAttributeProvider source, Type type, string name)
    {
        var bare = Nullable.GetUnderlyingType(type) ?? type;
        string queryName;
        if (source.GetCustomAttributes(typeof(FromQueryAttribute), false).FirstOrDefault() is FromQueryAttribute fromQuery)
            queryName = fromQuery.Name ?? name;
        else if (!source.GetCustomAttributes(true).Any(a => a is FromRouteAttribute or FromFormAttribute or FromHeaderAttribute
                     or FromServicesAttribute or FromBodyAttribute or FromKeyedServicesAttribute)
                 && !route.Contains(name) && IsSimple(bare))
            queryName = name;
        else
            return;
        taken.Names.Add(queryName);
        if (bare == typeof(decimal) || bare == typeof(double) || bare == typeof(float))
            taken.Fractional.Add(queryName);
    }

    static bool IsSimple(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan);
}
