using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Similarity.Encoders;

/// <summary>
/// <c>models/manifest.json</c>: everything the service knows about its encoders. Nothing about a model is
/// hard-coded; a real export is described by the same fields (see models/README.md).
/// </summary>
public sealed record ModelManifest(string Name, string? Description, ImageModel Image, TextModel Text, FusionModel Fusion)
{
    /// <summary>The folder the manifest's relative file names are resolved against.</summary>
    [JsonIgnore] public string Directory { get; init; } = "";

    /// <summary>Hash of the manifest and every file it names: stamped on every vector this model set makes.</summary>
    [JsonIgnore] public string Fingerprint { get; init; } = "";

    public string PathOf(string file) => Path.Combine(Directory, file);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    /// <summary>Reads, validates and hashes a manifest; every failure names the file or key at fault.</summary>
    public static ModelManifest Load(string path)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"Model manifest not found: {path} (Similarity:Models:Manifest).");
        var bytes = File.ReadAllBytes(path);
        ModelManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(bytes, Json)
                ?? throw new InvalidOperationException($"Model manifest {path} is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"Model manifest {path} is not valid: {ex.Message}", ex);
        }
        manifest = manifest with { Directory = Path.GetDirectoryName(Path.GetFullPath(path))! };
        manifest.Validate(path);

        // Each named file must match its pinned SHA-256: a swapped or half-copied model never serves.
        using var fingerprint = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        fingerprint.AppendData(bytes);
        foreach (var (file, expected) in manifest.PinnedFiles())
        {
            var full = manifest.PathOf(file);
            if (!File.Exists(full))
                throw new InvalidOperationException($"Model file not found: {full} (named in {path}).");
            using var stream = File.OpenRead(full);
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"Model file {full} has SHA-256 {actual}, but {path} pins {expected}.");
            fingerprint.AppendData(Convert.FromHexString(actual));
        }
        return manifest with { Fingerprint = Convert.ToHexStringLower(fingerprint.GetHashAndReset())[..16] };
    }

    IEnumerable<(string File, string Sha256)> PinnedFiles() =>
    [
        (Image.File, Image.Sha256),
        (Text.File, Text.Sha256),
        (Text.Tokenizer.Vocab, Text.Tokenizer.Sha256),
        (Fusion.File, Fusion.Sha256),
    ];

    void Validate(string path)
    {
        var errors = new List<string>();
        void Require(bool ok, string key, string what)
        {
            if (!ok) errors.Add($"{key}: {what}");
        }
        // JSON may leave any of these null whatever the records declare.
        if (Image?.Preprocessing is not { } pre || Text?.Tokenizer is null || Text.Inputs is null || Fusion is null)
        {
            errors.Add("image (with preprocessing), text (with inputs and tokenizer) and fusion are all required");
        }
        else
        {
            foreach (var (file, sha) in PinnedFiles())
            {
                Require(!string.IsNullOrWhiteSpace(file), "file", "a file name is missing");
                Require(sha is { Length: 64 }, $"sha256 of {file}", "must be 64 hex digits");
            }
            Require(Image.Dimension > 0, "image.dimension", "must be positive");
            Require(pre.Crop > 0 && pre.Resize >= pre.Crop, "image.preprocessing", "needs resize >= crop > 0");
            Require(pre.Mean is { Length: 3 } && pre.Std is { Length: 3 } && pre.Std.All(s => s > 0),
                "image.preprocessing", "mean and std need 3 values each, std positive");
            Require(Text.Dimension > 0, "text.dimension", "must be positive");
            Require(Text.Tokenizer.MaxSequenceLength is >= 3 and <= 4096, "text.tokenizer.maxSequenceLength", "must be 3..4096");
            Require(Fusion.Dimension > 0, "fusion.dimension", "must be positive");
        }
        if (errors.Count > 0)
            throw new InvalidOperationException($"Model manifest {path} is not valid: {string.Join("; ", errors)}.");
    }
}

public enum ImageOutputKind { Pooled, FeatureMap }

public enum TextOutputKind { LastHiddenState, Pooled }

public enum TextPooling { Mean, Cls }

public sealed record ImageModel(
    string File, string Sha256, string Input, string Output, ImageOutputKind OutputKind, int Dimension, ImagePreprocessing Preprocessing);

/// <summary>torchvision's eval transform: resize the shorter side, centre-crop, scale to [0,1], normalise.</summary>
public sealed record ImagePreprocessing(int Resize, int Crop, float[] Mean, float[] Std);

public sealed record TextModel(
    string File, string Sha256, TextInputs Inputs, string Output, TextOutputKind OutputKind, TextPooling Pooling, int Dimension, TokenizerSettings Tokenizer);

public sealed record TextInputs(string InputIds, string AttentionMask, string? TokenTypeIds);

public sealed record TokenizerSettings(string Vocab, string Sha256, bool LowerCase, bool StripAccents, bool SplitChineseCharacters, int MaxSequenceLength);

public sealed record FusionModel(string File, string Sha256, int Dimension);
