"""The WordPiece vocabulary learned from the training texts, and token ids exactly as the service makes them
(models/reference.py's tokenizer, which the golden tests hold the service's Microsoft.ML.Tokenizers to)."""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from reference import basic_tokenize, truncate, wordpiece  # noqa: E402  (models/ is not a package)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def learn_vocab(texts, tokenizer, min_word_count, max_pieces):
    """A WordPiece vocabulary from a corpus: every character (word-initial and "##" continuation), every word
    seen at least `min_word_count` times, and then the most frequent word-initial prefixes and "##" suffixes of
    the rarer words (2–6 characters), so an unseen word splits into a few meaningful pieces, not letters."""
    words = collections.Counter(w for t in texts for w in basic_tokenize(t, tokenizer))
    vocab = list(SPECIAL_TOKENS)
    characters = sorted({c for w in words for c in w})
    vocab += characters + ["##" + c for c in characters]
    vocab += sorted(w for w, n in words.items() if n >= min_word_count and len(w) > 1)
    pieces = collections.Counter()
    for word, count in words.items():
        if count >= min_word_count:
            continue
        for length in range(2, min(6, len(word) - 1) + 1):
            pieces[word[:length]] += count
            pieces["##" + word[-length:]] += count
    known = set(vocab)
    vocab += [p for p, n in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_word_count and p not in known][:max_pieces]
    return list(dict.fromkeys(vocab))


def write_vocab(vocab, path):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")


class Tokenizer:
    def __init__(self, vocab, settings):
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.settings = settings
        self.cls, self.sep, self.pad = self.ids["[CLS]"], self.ids["[SEP]"], self.ids["[PAD]"]

    def words(self, text):
        """The text as a list of words, each its WordPiece ids: views drop words, not pieces of words."""
        return [wordpiece(w, self.ids) for w in basic_tokenize(text, self.settings)]

    def ids_of_words(self, words):
        """[CLS] pieces [SEP], truncated like the service: whole words only, keeping [CLS] and [SEP]."""
        return [self.cls] + truncate(words, self.settings["maxSequenceLength"] - 2) + [self.sep]

    def encode(self, text):
        return self.ids_of_words(self.words(text))
