namespace Similarity.IntegrationTests.Infrastructure;

/// <summary>The service on another model set than the tiny one: one fixture type per set, as xUnit needs.</summary>
public abstract class ModelSetApp(string models) : SimilarityApp
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Similarity:Models:Manifest", Path.Combine(models, "manifest.json"))];

    /// <summary>The committed, trained default set.</summary>
    public sealed class Clipart() : ModelSetApp(TestPaths.Models("clipart"));

    /// <summary>A few training steps on a handful of drawings, made by ./similarity.sh test.</summary>
    public sealed class Smoke() : ModelSetApp(TestPaths.Models("smoke"));

    /// <summary>torchvision's ResNet-50 (weights=None) through models/export_real.py, made by ./similarity.sh test.</summary>
    public sealed class ResNet50() : ModelSetApp(TestPaths.Models("resnet50-untrained"));
}
