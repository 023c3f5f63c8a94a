"""Word-level tokenizer over the closed vocabulary (tokenizers WordLevel -> PreTrainedTokenizerFast).

Lower-cases, splits on words and punctuation; unknown words become <unk>.
Special ids are fixed so the config can name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<pad>", "<unk>", "<bos>", "<sep>", "<eos>", "<loc>", "<image>"]  # ids 0..6
PAD, UNK, BOS, SEP, EOS, LOC, IMAGE = range(len(SPECIAL_TOKENS))
_WORDS = re.compile(r"\w+|[^\w\s]+")


def split_words(text: str) -> list[str]:
    """Same split as the tokenizer's pre-tokenizer, lower-cased."""
    return _WORDS.findall(text.lower())


def build_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer whose vocabulary is every word of `texts` (sorted, after the specials)."""
    words = sorted({w for t in texts for w in split_words(t)} - set(SPECIAL_TOKENS))
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + words)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<bos>", eos_token="<eos>",
        sep_token="<sep>", additional_special_tokens=["<loc>", "<image>"],
    )
