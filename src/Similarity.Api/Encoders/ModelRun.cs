namespace Similarity.Encoders;

/// <summary>
/// One run of an encoder's ONNX session, whoever asked for it (a request's micro-batch or an import's batch): how
/// many items it took and how long the session ran (decoding, tokenising and pooling excluded).
/// </summary>
public readonly record struct ModelRun(int Size, TimeSpan Duration);
