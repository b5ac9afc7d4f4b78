using Mono.Cecil;

namespace Similarity.UnitTests.Architecture;

/// <summary>
/// The service's features depend one way, in the order docs/architecture.md draws. Read from the compiled assembly
/// (signatures, attributes and every method body, lambdas and async state machines included), so a reference the
/// source hides behind <c>var</c> or a fully qualified name still counts.
/// </summary>
public class FeatureDependencyTests
{
    /// <summary>Each feature may reference those before it; the last group only reads the others.</summary>
    static readonly string[][] Layers =
    [
        ["Hosting"], ["Database"], ["Keys"], ["Fusion"], ["Encoders"], ["Models"], ["Catalog"], ["Feedback"], ["Similar"], ["Insight"], ["Imports"],
        ["Embed", "Health", "Pages", "OpenApi"],
    ];

    static readonly Lazy<Dictionary<string, HashSet<string>>> References = new(ReadReferences);

    [Fact]
    public void Every_feature_is_in_the_documented_order()
    {
        var known = Layers.SelectMany(l => l).ToHashSet();
        Assert.DoesNotContain(References.Value.Keys, f => !known.Contains(f));
    }

    [Fact]
    public void Features_reference_only_those_before_them()
    {
        var layerOf = Layers.SelectMany((layer, i) => layer.Select(f => (f, i))).ToDictionary(e => e.f, e => e.i);
        var wrongWay = References.Value
            .SelectMany(e => e.Value.Select(to => (From: e.Key, To: to)))
            .Where(e => layerOf.TryGetValue(e.From, out var from) && layerOf.TryGetValue(e.To, out var to) && to >= from)
            .Select(e => $"{e.From} -> {e.To}")
            .Order()
            .ToList();
        Assert.True(wrongWay.Count == 0, "References against the order: " + string.Join(", ", wrongWay));
    }

    [Fact]
    public void No_namespace_cycle()
    {
        var graph = References.Value;
        var cycles = new List<string>();
        foreach (var start in graph.Keys)
        {
            // A path back to the start is a cycle; each is reported once, from its alphabetically first feature.
            var stack = new Stack<List<string>>([[start]]);
            while (stack.TryPop(out var path))
            {
                foreach (var next in graph.GetValueOrDefault(path[^1], []))
                {
                    if (next == start && path.Min(StringComparer.Ordinal) == start)
                        cycles.Add(string.Join(" -> ", path.Append(start)));
                    else if (!path.Contains(next) && string.CompareOrdinal(next, start) > 0)
                        stack.Push([.. path, next]);
                }
            }
        }
        Assert.True(cycles.Count == 0, "Cycles: " + string.Join("; ", cycles.Take(20)));
    }

    [Fact]
    public void The_reader_sees_references_inside_method_bodies()
    {
        // Guards the test itself: Catalog's items API calls the model sets only in method bodies and lambdas.
        Assert.Contains("Models", References.Value["Catalog"]);
    }

    static string? FeatureOf(string? ns) =>
        ns is not null && ns.StartsWith("Similarity.", StringComparison.Ordinal) ? ns.Split('.')[1] : null;

    static Dictionary<string, HashSet<string>> ReadReferences()
    {
        using var assembly = AssemblyDefinition.ReadAssembly(typeof(Similarity.Hosting.Problems).Assembly.Location);
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var type in assembly.MainModule.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null)
                outer = outer.DeclaringType;
            if (FeatureOf(outer.Namespace) is not { } from)
                continue;
            var to = graph.TryGetValue(from, out var set) ? set : graph[from] = [];
            foreach (var referenced in ReferencedTypes(type))
            {
                if (FeatureOf(Outermost(referenced).Namespace) is { } feature && feature != from)
                    to.Add(feature);
            }
        }
        return graph;
    }

    static TypeReference Outermost(TypeReference type)
    {
        type = type.GetElementType();
        while (type.DeclaringType is not null)
            type = type.DeclaringType;
        return type;
    }

    static IEnumerable<TypeReference> ReferencedTypes(TypeDefinition type)
    {
        IEnumerable<TypeReference> Expand(TypeReference? t)
        {
            if (t is null)
                yield break;
            yield return t;
            if (t is GenericInstanceType generic)
            {
                foreach (var argument in generic.GenericArguments.SelectMany(Expand))
                    yield return argument;
            }
            if (t is TypeSpecification spec)
            {
                foreach (var inner in Expand(spec.ElementType))
                    yield return inner;
            }
        }

        IEnumerable<TypeReference> OfAttributes(ICustomAttributeProvider provider) =>
            provider.HasCustomAttributes ? provider.CustomAttributes.SelectMany(a => Expand(a.AttributeType)) : [];

        var found = new List<TypeReference>();
        found.AddRange(Expand(type.BaseType));
        found.AddRange(type.Interfaces.SelectMany(i => Expand(i.InterfaceType)));
        found.AddRange(OfAttributes(type));
        found.AddRange(type.Fields.SelectMany(f => Expand(f.FieldType).Concat(OfAttributes(f))));
        found.AddRange(type.Properties.SelectMany(p => Expand(p.PropertyType).Concat(OfAttributes(p))));
        foreach (var method in type.Methods)
        {
            found.AddRange(Expand(method.ReturnType));
            found.AddRange(OfAttributes(method));
            found.AddRange(method.Parameters.SelectMany(p => Expand(p.ParameterType).Concat(OfAttributes(p))));
            if (!method.HasBody)
                continue;
            found.AddRange(method.Body.Variables.SelectMany(v => Expand(v.VariableType)));
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        found.AddRange(Expand(t));
                        break;
                    case MethodReference m:
                        found.AddRange(Expand(m.DeclaringType));
                        found.AddRange(Expand(m.ReturnType));
                        found.AddRange(m.Parameters.SelectMany(p => Expand(p.ParameterType)));
                        if (m is GenericInstanceMethod gm)
                            found.AddRange(gm.GenericArguments.SelectMany(Expand));
                        break;
                    case FieldReference f:
                        found.AddRange(Expand(f.DeclaringType));
                        found.AddRange(Expand(f.FieldType));
                        break;
                }
            }
        }
        return found;
    }
}
