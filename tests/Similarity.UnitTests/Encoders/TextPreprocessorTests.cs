using Similarity.Encoders;

namespace Similarity.UnitTests.Encoders;

public sealed class TextPreprocessorTests : IDisposable
{
    // id:                     0        1        2        3        4         5      6       7        8      9    10   11   12    13    14
    static readonly string[] Vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "red", "cafe", "shirt", "##s", "t", "-", "!", "红", "衫", "##y"];
    readonly string _vocabPath = Path.GetTempFileName();

    public TextPreprocessorTests() => File.WriteAllLines(_vocabPath, Vocab);

    public void Dispose() => File.Delete(_vocabPath);

    TextPreprocessor Create(bool lowerCase = true, bool stripAccents = true, bool splitChinese = true, int maxLength = 32) =>
        TextPreprocessor.Create(_vocabPath, new TokenizerSettings(_vocabPath, new string('0', 64), lowerCase, stripAccents, splitChinese, maxLength));

    [Fact]
    public void Lower_cases_and_wraps_in_cls_and_sep() =>
        Assert.Equal([2, 5, 7, 3], Create().Encode("RED Shirt"));

    [Fact]
    public void Keeps_case_when_told_so_and_the_cased_word_is_unknown() =>
        Assert.Equal([2, 1, 7, 3], Create(lowerCase: false).Encode("RED shirt"));

    [Fact]
    public void Strips_accents() =>
        Assert.Equal([2, 6, 3], Create().Encode("Café"));

    [Fact]
    public void Splits_punctuation_into_its_own_tokens() =>
        Assert.Equal([2, 9, 10, 7, 11, 3], Create().Encode("t-shirt!"));

    [Fact]
    public void Continues_words_with_hash_pieces() =>
        Assert.Equal([2, 7, 8, 5, 14, 3], Create().Encode("shirts redy"));

    [Fact]
    public void A_word_that_cannot_be_pieced_together_is_unknown() =>
        Assert.Equal([2, 1, 7, 3], Create().Encode("blue shirt"));

    [Fact]
    public void Chinese_characters_are_tokens_of_their_own() =>
        Assert.Equal([2, 12, 13, 5, 3], Create().Encode("红衫red"));

    [Fact]
    public void Truncation_keeps_cls_and_sep()
    {
        var ids = Create(maxLength: 5).Encode("red shirt red shirt red shirt");
        Assert.Equal([2, 5, 7, 5, 3], ids);
    }

    [Fact]
    public void Empty_text_is_just_the_special_tokens() =>
        Assert.Equal([2, 3], Create().Encode(""));
}
