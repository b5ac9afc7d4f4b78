using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Similarity.Encoders;

/// <summary>Creates the one <see cref="InferenceSession"/> per model, on the configured device.</summary>
public static partial class OnnxSessions
{
    public static InferenceSession Create(string modelPath, InferenceOptions options, ILogger logger)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = options.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        if (options.Device is "cuda" or "auto")
            TryAppendCuda(sessionOptions, options.Device, modelPath, logger);
        try
        {
            return new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException($"Model {modelPath} could not be loaded by ONNX Runtime: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The CPU package (Microsoft.ML.OnnxRuntime) has no CUDA provider: appending it throws, and the service runs
    /// on CPU after one warning. The GPU image builds with -p:OnnxRuntimeGpu=true (see docker/).
    /// </summary>
    static void TryAppendCuda(SessionOptions sessionOptions, string device, string modelPath, ILogger logger)
    {
        try
        {
            sessionOptions.AppendExecutionProvider_CUDA(0);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            LogCudaUnavailable(logger, device, Path.GetFileName(modelPath), ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Similarity:Inference:Device is {Device} but CUDA is not available for {Model} ({Reason}); running on CPU.")]
    static partial void LogCudaUnavailable(ILogger logger, string device, string model, string reason);
}
