using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Similarity.OpenApi;

/// <summary>
/// The answers' schemas as a client generator needs them: a member the service always writes is <c>required</c>
/// (only those written when set, <c>[JsonIgnore(WhenWritingNull)]</c>, are optional); it is nullable exactly when
/// its C# type is; the strings that take a few values are enumerations (<see cref="OpenApiValues"/>); and each
/// member has an example from the demo catalog instead of Swagger UI's <c>"string"</c>. Reads the records
/// themselves, so a new answer is covered without a list to keep in step; request records are left to
/// <see cref="OpenApiBodies"/>.
/// </summary>
internal sealed class OpenApiSchemas : ISchemaFilter
{
    static readonly NullabilityInfoContext Nullability = new();

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is OpenApiSchema problem && OpenApiValues.ProblemExampleOf(context.Type) is { } example)
            problem.Examples = [example]; // instead of "string" and additionalProp1
        if (schema is not OpenApiSchema concrete || concrete.Properties is not { Count: > 0 } properties || !IsAnswer(context.Type))
            return;
        foreach (var property in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (!properties.TryGetValue(name, out var member))
                continue;
            var writtenWhenSet = property.GetCustomAttribute<JsonIgnoreAttribute>()?.Condition
                is JsonIgnoreCondition.WhenWritingNull or JsonIgnoreCondition.WhenWritingDefault;
            var nullable = !writtenWhenSet && Nullability.Create(property).ReadState == NullabilityState.Nullable;
            if (!writtenWhenSet)
            {
                concrete.Required ??= new HashSet<string>();
                concrete.Required.Add(name);
            }
            properties[name] = Describe(member, nullable, context.Type.Name, name);
        }
    }

    /// <summary>The service's own answers: records of its namespaces that are not request bodies or forms.</summary>
    static bool IsAnswer(Type type) =>
        type.Namespace?.StartsWith("Similarity", StringComparison.Ordinal) == true
        && type.GetMethod("<Clone>$") is not null
        && !type.Name.EndsWith("Request", StringComparison.Ordinal) && !type.Name.EndsWith("Form", StringComparison.Ordinal)
        && !type.Name.EndsWith("Input", StringComparison.Ordinal) && !type.Name.EndsWith("Query", StringComparison.Ordinal);

    static IOpenApiSchema Describe(IOpenApiSchema member, bool nullable, string typeName, string name)
    {
        if (member is OpenApiSchemaReference reference)
            // OpenAPI 3.0 cannot mark a $ref nullable: the reference goes into an allOf beside nullable.
            return nullable ? new OpenApiSchema { AllOf = [reference], Type = JsonSchemaType.Null } : reference;
        if (member is not OpenApiSchema schema)
            return member;
        if (schema.Type is { } type)
            schema.Type = nullable ? type | JsonSchemaType.Null : type & ~JsonSchemaType.Null;
        else if (name is "attributes")
            schema.Type = JsonSchemaType.Object | (nullable ? JsonSchemaType.Null : 0);
        if (OpenApiValues.EnumOf(typeName, name) is { } values)
        {
            schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))];
            schema.MaxLength ??= values.Max(v => v.Length);
        }
        if (OpenApiValues.ExampleOf(typeName, name) is { } example)
            schema.Examples = [example];
        return schema;
    }
}
