using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Similarity.IntegrationTests.Infrastructure;

namespace Similarity.IntegrationTests.Encoders;

/// <summary>
/// models/int8.py on two tiny graphs (quantizer_fixtures.py writes them, seeded): a Conv pair quantised static
/// (QDQ, ranges from numpy) and a MatMul + Gemm quantised dynamic, run by the service's ONNX Runtime and compared
/// with numpy's float forward pass. The FP32 graphs match numpy to 1e-4, so the reference itself is checked.
/// Tolerance: each INT8 output within 3% of the output's largest magnitude (the rounding of three 255-step
/// activations and the int8 weights adds up to 2.2% at worst on the Conv pair, 0.7% on the MatMul), and the output
/// as a whole at cosine 0.999 or more to numpy's; a wrong scale, axis or zero point is off by tens of percent.
/// </summary>
public sealed class QuantizerTests : IAsyncLifetime
{
    const float Fp32Tolerance = 1e-4f;
    const float Int8RelativeTolerance = 0.03f;
    const float Int8MinCosine = 0.999f;

    readonly string _folder = Directory.CreateTempSubdirectory("similarity-int8-").FullName;
    JsonElement _reference;

    public async Task InitializeAsync()
    {
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(TestPaths.Root, "tests", "Similarity.IntegrationTests", "Encoders", "quantizer_fixtures.py"), _folder])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, errors);
        _reference = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_folder, "reference.json"))).RootElement;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("conv")]
    [InlineData("matmul")]
    public void The_fp32_graph_matches_numpy(string graph)
    {
        foreach (var (name, expected, actual) in Run(graph, "fp32"))
            Assert.True(WorstDifference(expected, actual) <= Fp32Tolerance, $"{graph}/{name}: {WorstDifference(expected, actual):E2}");
    }

    [Theory]
    [InlineData("conv")]
    [InlineData("matmul")]
    public void The_int8_graph_is_within_three_percent_of_numpy(string graph)
    {
        foreach (var (name, expected, actual) in Run(graph, "int8"))
        {
            var scale = expected.Max(MathF.Abs);
            var worst = WorstDifference(expected, actual);
            Assert.True(worst <= Int8RelativeTolerance * scale, $"{graph}/{name}: largest difference {worst:F4} > 3% of {scale:F4}");
            var cosine = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(expected, actual);
            Assert.True(cosine >= Int8MinCosine, $"{graph}/{name}: cosine {cosine:F5} < {Int8MinCosine}");
        }
    }

    List<(string Name, float[] Expected, float[] Actual)> Run(string graph, string variant)
    {
        var reference = _reference.GetProperty(graph);
        using var session = new InferenceSession(Path.Combine(_folder, $"{graph}-{variant}.onnx"));
        var inputs = reference.GetProperty("inputs").EnumerateObject()
            .Select(i => (i.Name, Value: OrtValue.CreateTensorValueFromMemory(Floats(i.Value.GetProperty("data")), Shape(i.Value.GetProperty("shape")))))
            .ToList();
        try
        {
            var outputs = reference.GetProperty("outputs").EnumerateObject().ToList();
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), outputs.Select(o => o.Name).ToArray());
            return outputs.Select((o, k) =>
            {
                Assert.Equal(Shape(o.Value.GetProperty("shape")), results[k].GetTensorTypeAndShape().Shape);
                return (o.Name, Floats(o.Value.GetProperty("data")), results[k].GetTensorDataAsSpan<float>().ToArray());
            }).ToList();
        }
        finally
        {
            foreach (var input in inputs)
                input.Value.Dispose();
        }
    }

    static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    static long[] Shape(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    static float WorstDifference(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (e, a) => MathF.Abs(e - a)).Max();
    }
}
