using System.Text.Json;
using System.Text.Json.Serialization;

namespace Similarity.Similar;

/// <summary>
/// The /similar answers' JSON metadata made at build time (System.Text.Json source generation), first in the HTTP JSON
/// options' resolver chain: the storefront's hot answer is written without reflection. Web defaults, as the options the
/// service configures; the options' own settings still apply (the metadata is bound to them when resolved).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SimilarApi.SimilarResponse))]
[JsonSerializable(typeof(SimilarApi.SimilarBatchResponse))]
internal sealed partial class FreshListJson : JsonSerializerContext;
