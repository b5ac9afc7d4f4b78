using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Similarity.Fusion;

namespace Similarity.UnitTests.Fusion;

public sealed class AttentionFusionTests : IDisposable
{
    readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    /// <summary>Writes a safetensors file the way the format's spec describes it.</summary>
    static void WriteSafeTensors(string path, Dictionary<string, (int[] Shape, float[] Data)> tensors)
    {
        var header = new Dictionary<string, object>();
        var offset = 0;
        foreach (var (name, (shape, data)) in tensors)
        {
            header[name] = new { dtype = "F32", shape, data_offsets = new[] { offset, offset + data.Length * 4 } };
            offset += data.Length * 4;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        foreach (var (_, (_, data)) in tensors)
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    /// <summary>2-d image and text spaces, 2-d fused space, identity projections, 1-d attention.</summary>
    AttentionFusion Create(float[] attentionWeight, float attentionVector)
    {
        WriteSafeTensors(_path, new()
        {
            ["image_projection"] = ([2, 2], [1, 0, 0, 1]),
            ["text_projection"] = ([2, 2], [1, 0, 0, 1]),
            ["attention_weight"] = ([1, 2], attentionWeight),
            ["attention_bias"] = ([1], [0]),
            ["attention_vector"] = ([1], [attentionVector]),
        });
        return AttentionFusion.Load(_path, imageDimension: 2, textDimension: 2, dimension: 2);
    }

    [Fact]
    public void Neutral_attention_weighs_both_modalities_equally()
    {
        var fusion = Create([1, 0], attentionVector: 0);
        var result = fusion.Fuse([3, 0], [0, 5]);

        Assert.Equal(0.5f, result.ImageWeight, 6);
        Assert.Equal(0.5f, result.TextWeight, 6);
        // Projected vectors are unit; their equal mix normalised is (1,1)/√2.
        Assert.Equal([1f, 0f], result.Image!);
        Assert.Equal([0f, 1f], result.Text!);
        Assert.Equal(1 / MathF.Sqrt(2), result.Fused[0], 6);
        Assert.Equal(1 / MathF.Sqrt(2), result.Fused[1], 6);
    }

    [Fact]
    public void Attention_weights_follow_a_softmax_of_the_scores()
    {
        // score = v·tanh(w·p): image p=(1,0) → 2·tanh(1); text p=(0,1) → 2·tanh(0) = 0.
        var fusion = Create([1, 0], attentionVector: 2);
        var result = fusion.Fuse([1, 0], [0, 1]);

        var imageScore = 2 * MathF.Tanh(1);
        var expectedImage = MathF.Exp(imageScore) / (MathF.Exp(imageScore) + 1);
        Assert.Equal(expectedImage, result.ImageWeight, 5);
        Assert.Equal(1, result.ImageWeight + result.TextWeight, 6);
        Assert.Equal(1, TensorPrimitives.Norm(result.Fused), 5);
    }

    [Fact]
    public void A_missing_modality_is_masked_out()
    {
        var fusion = Create([1, 0], attentionVector: 2);

        var imageOnly = fusion.Fuse([0, 4], []);
        Assert.Equal(1f, imageOnly.ImageWeight);
        Assert.Equal(0f, imageOnly.TextWeight);
        Assert.Null(imageOnly.Text);
        Assert.Equal([0f, 1f], imageOnly.Fused);

        var textOnly = fusion.Fuse([], [2, 0]);
        Assert.Equal(0f, textOnly.ImageWeight);
        Assert.Equal([1f, 0f], textOnly.Fused);
    }

    [Fact]
    public void Nothing_to_fuse_is_an_error() =>
        Assert.Throws<ArgumentException>(() => Create([1, 0], 0).Fuse([], []));

    [Fact]
    public void A_shape_that_does_not_match_the_encoders_is_refused_naming_the_tensor()
    {
        Create([1, 0], 0);
        var error = Assert.Throws<InvalidOperationException>(() => AttentionFusion.Load(_path, imageDimension: 3, textDimension: 2, dimension: 2));
        Assert.Contains("image_projection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_weights_file_is_refused()
    {
        Create([1, 0], 0);
        var bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..^4]);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(_path));
    }
}
