using Microsoft.ML.Tokenizers;

namespace Similarity.Encoders;

/// <summary>Text → BERT input ids with <c>[CLS]</c> … <c>[SEP]</c>, using the manifest's vocab and options.</summary>
public sealed class TextPreprocessor
{
    readonly BertTokenizer _tokenizer;
    readonly int _maxLength;

    TextPreprocessor(BertTokenizer tokenizer, int maxLength) => (_tokenizer, _maxLength) = (tokenizer, maxLength);

    public static TextPreprocessor Create(string vocabPath, TokenizerSettings settings)
    {
        var tokenizer = BertTokenizer.Create(vocabPath, new BertOptions
        {
            LowerCaseBeforeTokenization = settings.LowerCase,
            RemoveNonSpacingMarks = settings.StripAccents,
            IndividuallyTokenizeCjk = settings.SplitChineseCharacters,
        });
        return new TextPreprocessor(tokenizer, settings.MaxSequenceLength);
    }

    /// <summary>Token ids, truncated so <c>[CLS]</c> and <c>[SEP]</c> always survive.</summary>
    public int[] Encode(string text)
    {
        var ids = _tokenizer.EncodeToIds(text, _maxLength - 2, addSpecialTokens: false, out _, out _);
        var result = new int[ids.Count + 2];
        result[0] = _tokenizer.ClassificationTokenId;
        for (var i = 0; i < ids.Count; i++)
            result[i + 1] = ids[i];
        result[^1] = _tokenizer.SeparatorTokenId;
        return result;
    }
}
