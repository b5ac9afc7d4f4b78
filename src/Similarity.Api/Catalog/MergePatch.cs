using System.Text.Json.Nodes;

namespace Similarity.Catalog;

/// <summary>
/// JSON Merge Patch (RFC 7396): a patch object's members replace the target's, a null removes one, and an object
/// merges into an object recursively; anything else replaces the target whole. Hand-written: .NET ships RFC 6902
/// (JSON Patch) only, and RFC 7396's whole algorithm is the ten lines below.
/// </summary>
public static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
            return patch?.DeepClone();
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
                result.Remove(name);
            else
                result[name] = Apply(result[name], value);
        }
        return result;
    }
}
