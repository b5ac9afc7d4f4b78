using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace Similarity.Hosting;

/// <summary>
/// Refuses a query parameter an endpoint does not take (<c>limit=2</c> where the parameter is <c>k</c>) with a 400
/// naming it, instead of silently ignoring it. Each endpoint's parameters are read once from its own handler — the
/// simple-typed ones not bound from the route, the form, a header or the services, and those of an
/// <c>[AsParameters]</c> record — so a new endpoint is covered without a list to keep in step.
/// </summary>
public static class QueryParameters
{
    static readonly ConcurrentDictionary<RouteEndpoint, HashSet<string>?> Taken = new();

    public static WebApplication UseKnownQueryParametersOnly(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (http.GetEndpoint() is RouteEndpoint endpoint && http.Request.Query.Count > 0
                && Taken.GetOrAdd(endpoint, TakenBy) is { } taken
                && http.Request.Query.Keys.Where(k => !taken.Contains(k)).Order(StringComparer.Ordinal).ToArray() is [_, ..] unknown)
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new HttpValidationProblemDetails(unknown.ToDictionary(name => name, name => new[]
                    {
                        taken.Count == 0
                            ? $"Unknown query parameter '{name}': this endpoint takes none."
                            : $"Unknown query parameter '{name}': this endpoint takes {string.Join(", ", taken.Select(JsonNamingPolicy.CamelCase.ConvertName).Order(StringComparer.Ordinal))}.",
                    }))
                    {
                        Status = StatusCodes.Status400BadRequest,
                        Title = "Unknown query parameters.",
                    },
                });
                return;
            }
            await next(http);
        });
        return app;
    }

    /// <summary>The query names a minimal-API handler binds; null for endpoints that are not such handlers (static files, Swagger).</summary>
    static HashSet<string>? TakenBy(RouteEndpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is not { } handler)
            return null;
        var route = endpoint.RoutePattern.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in handler.GetParameters())
        {
            if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
            {
                foreach (var constructorParameter in parameter.ParameterType.GetConstructors().Single().GetParameters())
                    Add(names, route, constructorParameter, constructorParameter.ParameterType, constructorParameter.Name!);
            }
            else
                Add(names, route, parameter, parameter.ParameterType, parameter.Name!);
        }
        return names;
    }

    static void Add(HashSet<string> names, HashSet<string> route, ICustomAttributeProvider source, Type type, string name)
    {
        if (source.GetCustomAttributes(typeof(FromQueryAttribute), false).FirstOrDefault() is FromQueryAttribute fromQuery)
        {
            names.Add(fromQuery.Name ?? name);
            return;
        }
        var boundElsewhere = source.GetCustomAttributes(true).Any(a => a is FromRouteAttribute or FromFormAttribute or FromHeaderAttribute
            or FromServicesAttribute or FromBodyAttribute or FromKeyedServicesAttribute);
        if (!boundElsewhere && !route.Contains(name) && IsSimple(Nullable.GetUnderlyingType(type) ?? type))
            names.Add(name);
    }

    static bool IsSimple(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan);
}
