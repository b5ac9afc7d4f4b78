using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Similarity.Fusion;

/// <summary>
/// Reads float32 tensors from a safetensors file: an 8-byte little-endian header length, a JSON header of
/// {name: {dtype, shape, data_offsets}}, then raw little-endian data. Written by hand because the format is
/// this small and no maintained .NET reader is served here; it refuses anything it does not fully understand.
/// </summary>
public static class SafeTensors
{
    public sealed record Tensor(int[] Shape, float[] Data);

    public static Dictionary<string, Tensor> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8)
            throw new InvalidDataException($"{path} is too short to be a safetensors file.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{path}: header length {headerLength} runs past the end of the file.");
        var data = bytes.AsSpan(8 + (int)headerLength);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
                continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            if (dtype != "F32")
                throw new InvalidDataException($"{path}: tensor {entry.Name} is {dtype}; only F32 is supported.");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            var count = shape.Aggregate(1L, (a, d) => a * d);
            if (offsets is not [var begin, var end] || begin < 0 || end > data.Length || end - begin != count * sizeof(float))
                throw new InvalidDataException($"{path}: tensor {entry.Name} has data offsets that do not match its shape.");
            var values = new float[count];
            var raw = data[(int)begin..(int)end];
            if (BitConverter.IsLittleEndian)
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
            else
                for (var i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
            tensors[entry.Name] = new Tensor(shape, values);
        }
        return tensors;
    }
}
