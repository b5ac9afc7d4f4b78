namespace Similarity.Encoders;

public static class EncodersExtensions
{
    /// <summary>How the encoders run (ONNX Runtime's device and batching) and the inputs they accept, validated at start.</summary>
    public static WebApplicationBuilder AddEncoders(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<InputLimits>().BindConfiguration(InputLimits.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
