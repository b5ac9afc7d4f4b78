using Microsoft.AspNetCore.Mvc;
using Similarity.Catalog;

namespace Similarity.Similar;

/// <summary>Which lists answer a search: the vector index, the lexical index, or both fused.</summary>
public enum RetrievalMode { Vector, Lexical, Hybrid }

/// <summary>A validated choice of lists and of the lexical list's weight in the fusion (0–1; the vector list's is 1 − it).</summary>
public sealed record HybridChoice(RetrievalMode Mode, double LexicalWeight);

/// <summary>The <c>mode</c> and <c>lexicalWeight</c> query parameters of /search and /similar/{sku}, as bound.</summary>
public sealed record HybridQuery(
    [FromQuery(Name = "mode")] string? Mode = null,
    [FromQuery(Name = "lexicalWeight")] double? LexicalWeight = null)
{
    public static RetrievalMode? Parse(string? mode) => mode switch
    {
        "hybrid" => RetrievalMode.Hybrid,
        "vector" => RetrievalMode.Vector,
        "lexical" => RetrievalMode.Lexical,
        _ => null,
    };

    /// <summary>The choice, with <paramref name="defaultMode"/> when none is named; null after adding to <paramref name="errors"/>.</summary>
    public HybridChoice? Validate(Dictionary<string, string[]> errors, RetrievalMode defaultMode, double defaultWeight)
    {
        var mode = Mode is null ? defaultMode : Parse(Mode);
        if (mode is null)
            errors["mode"] = [$"'{FieldRules.Quote(Mode!)}' is not a mode: mode takes hybrid, vector or lexical."];
        if (LexicalWeight is { } weight && (!double.IsFinite(weight) || weight is < 0 or > 1))
            errors["lexicalWeight"] = ["lexicalWeight must be between 0 (vectors alone) and 1 (words alone)."];
        return mode is null || errors.ContainsKey("lexicalWeight") ? null : new HybridChoice(mode.Value, LexicalWeight ?? defaultWeight);
    }
}

public static class HybridChoices
{
    /// <summary>The answer's <c>rankedBy</c>: fused or weighted for the vectors alone, else hybrid or lexical.</summary>
    public static string RankedBy(this HybridChoice choice, bool weighted) => choice.Mode switch
    {
        RetrievalMode.Hybrid => "hybrid",
        RetrievalMode.Lexical => "lexical",
        _ => weighted ? "weighted" : "fused",
    };
}
