"""Brand detection: which brand a sari-sari product name refers to (silver layer).

Business meaning: every item a store device reports carries a free-text product name
("Safeguard Classic Beige 85g", "koka kola sakto", "yelo 1kg") and sometimes the device's own
guess of the brand (``brandName``). Dashboards aggregate sales by brand, so each name gets one
brand from the Nielsen brand map, or "Unknown Brand", together with the rule that decided it and
a confidence.

Rules, first that fires wins (the original system's rules, made deterministic, then the rules
for damaged device transcriptions). Any brand the name yields (a-e) beats a device hint that
disagrees: the hint only speaks when the name says nothing (f).

a. ``exact``: a brand-map name (confidence >= 0.9) occurs in the normalised product name on
   word boundaries; the longest such name wins ("Lucky Me" beats "Lucky"). Confidence = the
   map's confidence.
b. ``alias``: a known alias or a generated variant of a brand occurs on word boundaries, the
   longest winning. Variants: joined words ("cocacola"), a possessive dropped ("leslie"), and
   sound-alike spellings matched on sound-folded text ("kopico", "dobe" for Dove). One
   refinement of the strict order: an alias of another brand that strictly contains the exact
   hit beats it ("palm olive" is Palmolive, not the brand Palm) - the longer phrase is the
   better evidence. Confidence = 0.95 x the map's.
c. ``ocr``: for names with a word that vision capture may have damaged (a digit inside letters,
   "rn"), a brand or alias key occurs in the OCR-folded spelling, where 0/o, 1/l/i, rn/m, 3/e,
   5/s and 8/b read alike ("L1p0vitan", "c@rnel"; "@" inside a word is already an "a").
   Confidence = 0.9 x the map's.
d. ``prefix``: the brand cut short: a 1-3-word n-gram of the name (as written, or OCR-folded)
   is the beginning of exactly one brand's key, with at least 5 letters and 3/4 of the key's
   letters ("Safegua", "Century Tu"). A beginning two brands share leaves the name unknown
   (rule e is not tried). Confidence = 0.85 x the map's.
e. ``fuzzy``: the best OSA similarity between a brand key of 4+ letters and a whole-word
   1-3-gram of the name, spelled as written or sound-folded, when it reaches 0.80, or, as
   written, when the n-gram is the key with one or two letters lost inside it (6+ letters,
   first and last kept: "safgurd") or a 4-letter key with two neighbours swapped ("tdie").
   Two brands equally close leave the name unknown. See ``BrandMatcher._fuzzy_best``.
   Confidence = similarity x the map's.
f. ``device hint``: the device's ``brandName`` names a known brand (after normalisation,
   aliases - even the ambiguous ones - and sound-alike spelling). Confidence = 0.7 x the map's:
   the device classifier is the weakest evidence (its own item confidences are often ~0.7).
g. ``none``: "Unknown Brand", confidence 0.

Guards against false brands on unbranded goods (pandesal, yelo, sardinas, yosi...): whole-word
matching only; aliases that are everyday words ("halo", "tan", "ten") or name two brands ("tm
lucky me") are trusted only in device hints; no fuzzy or sound matching for very short keys
(C2, TM, Sun); n-grams and prefixes made only of generic words (pack words, flavours, category
keywords) are not candidates; the OCR rule only looks at names with a suspect word, and folds
only words holding a letter ("555" and "330ml" keep their digits).

Everything works on DISTINCT names and is vectorised inside one call: normalisation is a
handful of regex passes over all names joined into one string; rules (a)-(c) are Aho-Corasick
passes over that string; (d) is a dictionary lookup of n-grams; (e) is a few
``process.cdist`` calls (multi-threaded) over the distinct n-grams of the still-unresolved
names. Callers cache answers per (name, hint) with ``matcher_version()``; when the brand map
or the aliases change, ``affected_by_map_change`` says which cached keys to re-match.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import ahocorasick
import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import OSA

from scout_assets.constants import REFERENCE_DIR, UNKNOWN_BRAND

METHOD_EXACT = "exact"
METHOD_ALIAS = "alias"
METHOD_OCR = "ocr"
METHOD_PREFIX = "prefix"
METHOD_FUZZY = "fuzzy"
METHOD_HINT = "device hint"
METHOD_NONE = "none"
# In order of precedence (the first rule that finds a brand in the name decides).
METHODS = (
    METHOD_EXACT, METHOD_ALIAS, METHOD_OCR, METHOD_PREFIX, METHOD_FUZZY, METHOD_HINT, METHOD_NONE
)  # fmt: skip

# The original system matched names only against map rows with confidence >= 0.9; rows below
# (generic product types such as "Corned Beef") are kept for categories, never detected.
MIN_CONFIDENCE = 0.9
ALIAS_FACTOR = 0.95
OCR_FACTOR = 0.9
PREFIX_FACTOR = 0.85
HINT_FACTOR = 0.7

FUZZY_CUTOFF = 0.80  # OSA similarity: 1 - edits / longer length
FUZZY_MAX_EDITS = 4  # the most the cutoff allows within 1-3-word n-grams
# Keys shorter than this (C2, TM, TNT, Sun, Joy, 555, CDO, 3JM...) are never fuzzy-matched: with
# 2-3 letters one edit already turns them into another word ("c3", "tnx", "son", "jay").
FUZZY_MIN_KEY_LEN = 4
FUZZY_MAX_WORDS = 3  # n-grams of 1..3 words: the longest brand names have 3 ("head and shoulders")
_CDIST_CHUNK = 20_000  # n-grams per cdist call: bounds one distance matrix to ~25 MB

# A brand cut short: at least this many letters, and this share of the key's letters.
PREFIX_MIN_LETTERS = 5
PREFIX_MIN_SHARE = 0.75


# Aliases from brand_aliases.csv that are ordinary words in sari-sari product names ("halo" as in
# halo-halo, "tan", "ten" (normalised "10"), "tent", "tint", "glob"). They are trusted only
# inside a device's brandName field, where the context already says "this is a brand".
RISKY_ALIAS_WORDS = frozenset({"halo", "tan", "ten", "10", "tent", "tint", "glob"})

# Words that say what a product is or how it is sold, never which brand it is. An n-gram made
# only of such words (or of numbers) is no fuzzy candidate: "bago" (new) is not a misspelt
# Baguio, "cream" not a misspelt Cream-O. Category keywords are added by default.
PACK_WORDS = frozenset(
    """promo sachet tingi pack pcs pc piece pieces bottle can box bar bundle free buy take new
    big small mini jumbo family size regular original classic flavor flavour per stick sticks
    kilo kg g gm grams ml l liter litro pouch refill bag tie x and with for the of ang na ng sa
    at para pang isang ni ko po lang yung yun pa naman bago libre sale isa dalawa tatlo pabili
    piraso tali pesos piso
    cream sour sweet spicy hot mild cheese choco chocolate vanilla strawberry orange lemon
    apple mango pineapple ube melon grape milk coffee light lights menthol red blue green white
    black pink gold fresh cool mint extra strong lite sugar zero plus king filter powder liquid
    gel soap""".split()
)


@functools.lru_cache(maxsize=1)
def default_generic_words() -> tuple[str, ...]:
    """The category keywords (category_keywords.csv): words that describe, not brand, a product."""
    return tuple(
        pd.read_csv(REFERENCE_DIR / "category_keywords.csv", keep_default_na=False)["keyword"]
    )


@functools.lru_cache(maxsize=1)
def matcher_version() -> str:
    """What decides a name's brand besides the brand map and aliases (which the taxonomy-change
    path watches): this module's rules and the generic words. Recorded with every cached answer
    so that a changed matcher re-matches them (silver/brand_cache.py)."""
    digest = hashlib.sha256()
    for path in (Path(__file__), REFERENCE_DIR / "category_keywords.csv"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_PRE_REPLACE = [
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("`", "'"),
    ("\u00b4", "'"),
    # NFKD would spell the trade mark sign as "TM" (a brand!) glued to the word before it.
    ("\u2122", " "),
    ("\u00ae", " "),
    ("\u00a9", " "),
    ("&", " and "),
    ("\r", " "),
    ("\t", " "),
]
_COMBINING_MARKS = re.compile("[\u0300-\u036f]+")
_AT_IN_WORD = re.compile("(?<=[a-z0-9])@|@(?=[a-z0-9])")
_APOSTROPHES = re.compile("'+")
_NOT_ALNUM = re.compile(r"[^a-z0-9\n ]+")
_SPACES = re.compile(r" {2,}")
_LINE_EDGES = re.compile(r" *\n *")
# Speech-to-text stretches vowels/letters ("luckymeee", "sooo"); English never writes a letter
# three times in a row, so a run of 3+ becomes one letter. Digits are left alone ("555").
_LETTER_RUNS = re.compile(r"([a-z])\1{2,}")
# Word-level rewrites applied everywhere (both to product names and to brand keys):
# - transcripts spell numbers out ("c two", "buy one take one"), catalogues use digits;
# - "koka"/"kola": Filipino spelling of the hard c that transcribers produce for Coca-Cola
#   (brand_aliases.csv shows the same k/c confusion in "kopico").
_WORD_REWRITES = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "koka": "coca",
    "kola": "cola",
}
_WORD_REWRITE_RE = re.compile(r"\b(" + "|".join(map(re.escape, _WORD_REWRITES)) + r")\b")
# "n" / "'n'" between words is a spoken "and" (Jack 'n Jill, talk-n-text; "&" is already
# "and"), but not between spelled-out letters ("t n t").
_SPOKEN_AND = re.compile(r"(?<=[a-z]{2}) n (?=[a-z]{2})")
# Spelled-out codes: a lone letter and a lone digit ("c 2" -> "c2"), consecutive lone letters
# ("t n t" -> "tnt", "c d o" -> "cdo").
_LETTER_DIGIT = re.compile(r"\b([a-z]) ([0-9])\b")
_LONE_LETTERS = re.compile(r"\b[a-z](?: [a-z]\b)+")


def _joined_letters(match: re.Match[str]) -> str:
    """ "t n t" -> "tnt". The joined word can form a run or a number word ("n n n", "o n e"):
    those rules are applied to it again, so that normalising twice changes nothing."""
    word = _LETTER_RUNS.sub(r"\1", match.group().replace(" ", ""))
    return _WORD_REWRITES.get(word, word)


_SEPARATOR = "\n"


def _clean_texts(texts: Iterable[object]) -> list[str]:
    """Texts ready to be joined into one block: "" for None/NaN, no block separator inside."""
    given = list(texts)
    strings = [t for t in given if type(t) is str]
    if len(strings) != len(given):
        series = pd.Series(given, dtype=object)
        strings = series.where(series.notna(), "").astype(str).tolist()
    if sum(t.count(_SEPARATOR) for t in strings):
        strings = [t.replace(_SEPARATOR, " ") for t in strings]
    return strings


def _normalise_block(block: str) -> str:
    """Normalise many names at once: ``block`` holds them separated by newlines."""
    for old, new in _PRE_REPLACE:
        block = block.replace(old, new)
    if not block.isascii():  # accents: "nescafé" -> "nescafe"
        block = _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", block))
    block = block.lower()
    block = _AT_IN_WORD.sub("a", block)  # "safegu@rd", "@1aska": a misread "a"; "2 @ 10" stays
    block = _APOSTROPHES.sub("", block)  # "leslie's" -> "leslies", "jack 'n jill" -> "jack n jill"
    block = _NOT_ALNUM.sub(" ", block)  # hyphens, dots, other scripts -> word breaks
    block = _LETTER_RUNS.sub(r"\1", block)
    block = _SPACES.sub(" ", block)
    block = _LINE_EDGES.sub(_SEPARATOR, block).strip(" ")
    block = _WORD_REWRITE_RE.sub(lambda m: _WORD_REWRITES[m.group(1)], block)
    block = _SPOKEN_AND.sub(" and ", block)
    block = _LETTER_DIGIT.sub(r"\1\2", block)
    return _LONE_LETTERS.sub(_joined_letters, block)


def normalise_names(texts: Iterable[str | None]) -> list[str]:
    """The matching key of each product name (see ``normalise_name``), vectorised: each step
    is one regex pass over all names joined into one block."""
    cleaned = _clean_texts(texts)
    if not cleaned:
        return []
    return _normalise_block(_SEPARATOR.join(cleaned)).split(_SEPARATOR)


def normalise_name(text: str | None) -> str:
    """The key under which a product name is matched and cached.

    Lower case, accents stripped (NFKD), "&"/"n" -> "and", apostrophes dropped, every other
    punctuation mark or hyphen -> a space, single spaces, letter runs of 3+ collapsed, spelled-out
    numbers as digits, spelled-out codes joined ("c 2" -> "c2", "t n t" -> "tnt"),
    "koka kola" -> "coca cola". Idempotent.
    """
    return normalise_names([text])[0]


# ---------------------------------------------------------------------------------------------
# Sound-alike folding
# ---------------------------------------------------------------------------------------------

# Applied to both the names and the brand keys (never shown to anyone):
# each rule merges spellings that speech-to-text and Filipino orthography use interchangeably,
# derived from brand_aliases.csv: k/c ("kopico"), y/i ("oyshi"), g/j ("majik"), v/b ("bois",
# "vois"), ea/e ("gret"), doubled letters ("piatos", "roler"), silent final e ("palmoliv",
# "sprit"), gu/g ("safegard"); plus ph/f, qu/kw, x/ks, z/s, ee/i, oo/u of our own.
_SOUND_RULES: list[tuple[str | re.Pattern[str], str]] = [  # plain strings: str.replace (fast)
    ("ph", "f"),
    ("ck", "k"),
    ("qu", "kw"),
    (re.compile(r"c(?=[eiy])"), "s"),
    ("c", "k"),
    ("x", "ks"),
    ("z", "s"),
    ("v", "b"),
    (re.compile(r"gu(?=[aeiou])"), "g"),
    (re.compile(r"g(?=[ei])"), "j"),
    ("y", "i"),
    ("ea", "e"),
    ("ee", "i"),
    ("oo", "u"),
    *((letter * 2, letter) for letter in "abcdefghijklmnopqrstuvwxyz"),
    # Silent final e; the literal first lets the regex engine skip to each "e" quickly.
    (re.compile(r"e(?<=[a-z]{4})(?![a-z0-9])"), ""),
    # Tagalog does not distinguish e/i and o/u ("colget", "durny"), and a final e/i after a
    # consonant is voiced by some speakers and dropped by others ("del monti", "tidi", "tid").
    ("e", "i"),
    ("o", "u"),
    (re.compile(r"i(?<=[a-z]{4})(?![a-z0-9])"), ""),
]


def _fold_words(words: Sequence[str], rules=_SOUND_RULES) -> list[str]:
    """Single words spelled by ``rules`` (one joined block, one pass per rule)."""
    if not words:
        return []
    block = _SEPARATOR.join(words)
    for rule, replacement in rules:
        block = (
            block.replace(rule, replacement)
            if isinstance(rule, str)
            else rule.sub(replacement, block)
        )
    return block.split(_SEPARATOR)


def _words_of(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All words of ``texts`` in order (object array) and the number of words of each text."""
    counts = np.array([t.count(" ") + 1 if t else 0 for t in texts], np.int64)
    words = " ".join(texts).split()
    return np.fromiter(words, dtype=object, count=len(words)), counts


def _fold_word_array(words: np.ndarray, fold=_fold_words) -> np.ndarray:
    """``fold`` (default: the sound-alike spelling) of each word; only distinct words are
    folded (a few thousand distinct words make up hundreds of thousands of names)."""
    codes, distinct = pd.factorize(words)
    return np.array(fold(list(distinct)) or [""], dtype=object)[codes]


def _joined_lines(words: np.ndarray, counts: np.ndarray) -> list[str]:
    """The texts again from their (folded) words: ``counts`` words per text."""
    # Interleave words with " " and a "\n" after each text's last word, join once, split lines.
    separators = np.full(len(words), " ", dtype=object)
    ends = np.cumsum(counts)[counts > 0] - 1
    separators[ends] = _SEPARATOR
    pieces = np.empty(2 * len(words), dtype=object)
    pieces[0::2], pieces[1::2] = words, separators
    lines = iter("".join(pieces.tolist()).split(_SEPARATOR))
    return [next(lines) if count else "" for count in counts]


def sound_keys(normalised: Sequence[str]) -> list[str]:
    """Sound-alike spelling of already normalised names. No rule crosses a space, so a name's
    sound key is its folded words joined again."""
    if not normalised:
        return []
    words, counts = _words_of(normalised)
    return _joined_lines(_fold_word_array(words), counts)


# ---------------------------------------------------------------------------------------------
# Vision-capture (OCR) folding
# ---------------------------------------------------------------------------------------------

# What a vision model reads for a letter: "0" for o, "1" for l or i, "rn" for m, "3" for e,
# "5" for s, "8" for b ("@" for a is undone by normalisation). Applied to both names and brand
# keys, and only to words holding a letter: "555", "1.5l" and "330ml" keep their digits'
# meaning as far as any brand key is concerned. i and l both become l (OCR cannot tell them).
_OCR_RULES: list[tuple[str, str]] = [
    ("rn", "m"),
    ("0", "o"),
    ("1", "l"),
    ("i", "l"),
    ("3", "e"),
    ("5", "s"),
    ("8", "b"),
]
_HAS_LETTER = re.compile("[a-z]")
# A word that OCR may have damaged: a letter next to a digit, or "rn".
_OCR_SUSPECT = re.compile(r"[a-z][0-9]|[0-9][a-z]|rn")


def _ocr_fold_words(words: Sequence[str]) -> list[str]:
    lettered = [i for i, w in enumerate(words) if _HAS_LETTER.search(w)]
    folded = list(words)
    for i, word in zip(lettered, _fold_words([words[i] for i in lettered], _OCR_RULES)):
        folded[i] = word
    return folded


def ocr_keys(normalised: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The OCR-folded spelling of already normalised names, and which names hold a word that
    OCR may have damaged (the only names the OCR rule looks at)."""
    if not normalised:
        return [], np.zeros(0, bool)
    words, counts = _words_of(normalised)
    codes, distinct = pd.factorize(words)
    distinct = list(distinct)
    suspect_word = (
        np.fromiter((bool(_OCR_SUSPECT.search(w)) for w in distinct), bool, len(distinct))[codes]
        if len(words)
        else np.zeros(0, bool)
    )
    owner = np.repeat(np.arange(len(normalised)), counts)
    suspect = np.bincount(owner[suspect_word], minlength=len(normalised)) > 0
    folded = np.array(_ocr_fold_words(distinct) or [""], dtype=object)[codes]
    return _joined_lines(folded, counts), suspect


# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------


def load_brand_map(path: Path | None = None) -> pd.DataFrame:
    """The Nielsen brand map (brand_name, category_id, confidence, source)."""
    return pd.read_csv(path or REFERENCE_DIR / "nielsen_brand_map.csv", keep_default_na=False)


def load_aliases(paths: Sequence[Path] | None = None) -> pd.DataFrame:
    """Brand aliases (brand_slug, alias): the original list plus our reconciliation extras."""
    paths = paths or [
        REFERENCE_DIR / "brand_aliases.csv",
        REFERENCE_DIR / "brand_aliases_extra.csv",
    ]
    frames = [pd.read_csv(p, keep_default_na=False)[["brand_slug", "alias"]] for p in paths]
    return pd.concat(frames, ignore_index=True)


# Rows as the matcher accepts them: a DataFrame, an Arrow table or an iterable of tuples.
TableRows: TypeAlias = pd.DataFrame | pa.Table | Iterable[tuple]


def _as_frame(rows: TableRows | None, columns: Sequence[str]) -> pd.DataFrame:
    """Accept a pandas DataFrame, a pyarrow Table or an iterable of tuples with ``columns``."""
    if isinstance(rows, pa.Table):
        rows = rows.to_pandas()
    if isinstance(rows, pd.DataFrame):
        return rows[list(columns)].reset_index(drop=True)
    return pd.DataFrame(list(rows or []), columns=list(columns))


# ---------------------------------------------------------------------------------------------
# Key tables: every string that identifies a brand, with what it may be used for
# ---------------------------------------------------------------------------------------------

KIND_EXACT = "exact"  # the brand's own name: rule (a), hints, fuzzy anchor
KIND_ALIAS = "alias"  # alias or generated variant: rule (b), hints, fuzzy anchor
KIND_HINT = "hint"  # risky alias: device hints only
KIND_SOUND = "sound"  # sound-alike spelling of an exact/alias key: rule (b), hints
KIND_OCR = "ocr"  # OCR-folded spelling of an exact/alias key: rule (c)


def _compact(text: str) -> str:
    return text.replace(" ", "")


def _name_variants(norm: str, raw: str) -> set[str]:
    """Spellings people and transcribers use for a multi-word or possessive brand name.

    Joined words ("coca cola" -> "cocacola", "datuputi" in brand_aliases.csv); an apostrophe
    heard as a break ("eight o'clock" -> "eight o clock"); a possessive dropped ("leslie's" ->
    "leslie", as said aloud). Single letters and digits are kept ("v cut" -> "vcut").
    """
    variants = {_compact(norm)}
    if "'" in raw or "\u2019" in raw:
        spaced = normalise_name(re.sub("['\u2019]", " ", raw))
        variants.add(spaced)
        if norm.endswith("s") and re.search(r"['\u2019]s\b", raw):
            variants.add(norm[:-1])
    return {v for v in variants if v and v != norm}


def _resolve_slug(slug_norm: str, by_norm: dict[str, int], by_compact: dict[str, int]) -> int:
    """Brand id for an alias slug ("coca-cola" -> Coca-Cola, "magic-flakes" -> Magic), or -1."""
    if slug_norm in by_norm:
        return by_norm[slug_norm]
    if _compact(slug_norm) in by_compact:
        return by_compact[_compact(slug_norm)]
    # A product line named after its brand ("magic flakes"): the longest brand word-prefix.
    words = slug_norm.split()
    for n in range(len(words) - 1, 0, -1):
        prefix = " ".join(words[:n])
        if prefix in by_norm:
            return by_norm[prefix]
    return -1


@dataclass(frozen=True)
class KeyTable:
    """All keys of a matcher: ``key`` (normalised text), ``brand_id``, ``kind``."""

    frame: pd.DataFrame
    dropped: pd.DataFrame  # keys discarded because they named two brands or were unresolvable

    def of_kind(self, *kinds: str) -> pd.DataFrame:
        return self.frame[self.frame["kind"].isin(kinds)]


def _build_keys(
    names: list[str], norms: list[str], aliases: pd.DataFrame, skip_words: frozenset[str]
) -> KeyTable:
    """Derive every key of every brand and drop the ambiguous ones (see module docstring)."""
    by_norm = {n: i for i, n in enumerate(norms)}
    by_compact = {_compact(n): i for i, n in enumerate(norms)}
    rows: list[tuple[str, int, str, str]] = []  # key, brand_id, kind, origin
    for i, (raw, norm) in enumerate(zip(names, norms)):
        rows.append((norm, i, KIND_EXACT, raw))
        rows += [(v, i, KIND_ALIAS, f"variant of {raw}") for v in _name_variants(norm, raw)]

    dropped: list[tuple[str, str, str]] = []
    slug_norms = normalise_names(aliases["brand_slug"])
    alias_norms = normalise_names(aliases["alias"])
    for slug, slug_norm, alias, alias_norm in zip(
        aliases["brand_slug"], slug_norms, aliases["alias"], alias_norms
    ):
        brand_id = _resolve_slug(slug_norm, by_norm, by_compact)
        if brand_id < 0:
            dropped.append((alias_norm, slug, "slug names no brand of the map"))
            continue
        kind = KIND_HINT if _is_risky_alias(alias_norm, brand_id, by_norm) else KIND_ALIAS
        rows.append((alias_norm, brand_id, kind, f"alias {alias!r} of {slug}"))
        if " " in alias_norm:
            rows.append((_compact(alias_norm), brand_id, kind, f"joined alias {alias!r}"))

    frame = pd.DataFrame(rows, columns=["key", "brand_id", "kind", "origin"])
    literal, ambiguous = _drop_ambiguous(frame[frame["key"] != ""])
    dropped += [(k, o, "names two brands") for k, o in zip(ambiguous["key"], ambiguous["origin"])]
    # Sound keys live in their own namespace (they are matched against sound-folded names).
    sound, ambiguous = _drop_ambiguous(_sound_rows(literal, skip_words))
    dropped += [
        (k, o, "sounds like two brands") for k, o in zip(ambiguous["key"], ambiguous["origin"])
    ]
    # So do OCR-folded keys (matched against OCR-folded names).
    ocr, ambiguous = _drop_ambiguous(_ocr_rows(literal))
    dropped += [
        (k, o, "reads like two brands") for k, o in zip(ambiguous["key"], ambiguous["origin"])
    ]
    frame = pd.concat([literal, sound, ocr], ignore_index=True)
    return KeyTable(frame, pd.DataFrame(dropped, columns=["key", "origin", "reason"]))


def _is_risky_alias(alias_norm: str, brand_id: int, by_norm: dict[str, int]) -> bool:
    """Aliases too ambiguous for product names: common words, <= 3 characters, or phrases that
    name two brands ("tm lucky me" = TM + Lucky Me: it would steal every Lucky Me item).
    "palm olive" stays usable: it contains the brand Palm, but not its own brand's name."""
    if alias_norm in RISKY_ALIAS_WORDS or len(_compact(alias_norm)) <= 3:
        return True
    padded = f" {alias_norm} "
    named = {i for n, i in by_norm.items() if f" {n} " in padded}
    return brand_id in named and len(named) > 1


_KIND_RANK = {KIND_EXACT: 0, KIND_ALIAS: 1, KIND_HINT: 2, KIND_SOUND: 3, KIND_OCR: 4}


def _drop_ambiguous(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One key -> one brand. A brand's own name beats another brand's alias of the same text;
    a key claimed by two brands at the same rank identifies neither and is dropped."""
    frame = frame.assign(rank=frame["kind"].map(_KIND_RANK)).sort_values(
        ["key", "rank"], kind="stable"
    )
    best = frame.groupby("key")["rank"].transform("min")
    frame = frame[frame["rank"] == best]
    brands_per_key = frame.groupby("key")["brand_id"].transform("nunique")
    ambiguous = frame[brands_per_key > 1]
    kept = frame[brands_per_key == 1].drop_duplicates("key")
    return kept.drop(columns="rank"), ambiguous


def _sound_rows(frame: pd.DataFrame, skip_words: frozenset[str]) -> pd.DataFrame:
    """Sound-alike keys of exact/alias keys ("dove" -> "dob" also finds "dobe"). Not for keys
    that sound like a generic word (a brand sounding like "soap"), and not when too short:
    under 3 letters for a brand's own name ("c2" -> "k2" is not how anyone says C2), under 4
    for an alias (the misspelling "pesi" of Pepsi sounds like "pes", i.e. "pesos")."""
    base = frame[frame["kind"].isin([KIND_EXACT, KIND_ALIAS])]
    sounds = sound_keys(base["key"].tolist())
    rows = base.assign(key=sounds, kind=KIND_SOUND, origin="sounds like " + base["key"])
    generic_sounds = set(sound_keys(sorted(skip_words)))
    min_letters = np.where(base["kind"] == KIND_EXACT, 3, 4)
    letters = rows["key"].map(lambda k: len(_compact(k))).to_numpy()
    return rows[(letters >= min_letters) & ~rows["key"].isin(generic_sounds).to_numpy()]


def _ocr_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """OCR-folded keys of exact/alias keys ("tm" is also read "trn")."""
    base = frame[frame["kind"].isin([KIND_EXACT, KIND_ALIAS])]
    return base.assign(
        key=ocr_keys(base["key"].tolist())[0], kind=KIND_OCR, origin="reads like " + base["key"]
    )


# ---------------------------------------------------------------------------------------------
# Literal matching: Aho-Corasick over all names joined into one string
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hits:
    """Best literal match per text: brand id (-1 = none), start/end offsets in the text."""

    brand: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def length(self) -> np.ndarray:
        return self.end - self.start


class _LiteralIndex:
    """Finds keys inside texts on word boundaries; per text keeps the longest (then leftmost)."""

    def __init__(self, keys: pd.DataFrame) -> None:
        self._brand = keys["brand_id"].to_numpy(np.int32)
        self._length = keys["key"].str.len().to_numpy(np.int32)
        self._automaton = ahocorasick.Automaton()
        for i, key in enumerate(keys["key"]):
            # Padding with spaces makes every hit a whole-word hit: "ola" never hits "colas".
            self._automaton.add_word(f" {key} ", i)
        if len(keys):
            self._automaton.make_automaton()

    def best(self, texts: Sequence[str]) -> _Hits:
        n = len(texts)
        none = _Hits(np.full(n, -1, np.int32), np.zeros(n, np.int64), np.zeros(n, np.int64))
        if n == 0 or len(self._automaton) == 0:
            return none
        # Lines " t1 \n t2 \n ..." - a key (no newline) cannot span two texts.
        block = " " + " \n ".join(texts) + " "
        found = np.array(list(self._automaton.iter(block)), dtype=np.int64).reshape(-1, 2)
        if len(found) == 0:
            return none
        ends, key_ids = found[:, 0], found[:, 1]
        line_starts = np.concatenate(
            ([0], np.cumsum(np.fromiter(map(len, texts), np.int64, n) + 3)[:-1])
        )
        length = self._length[key_ids]
        # key " k " ends at `ends` (inclusive, trailing space); text offset of k's first letter:
        line = np.searchsorted(line_starts, ends, side="right") - 1
        start = ends - (length + 1) - line_starts[line]
        order = np.lexsort((start, -length, line))
        first = order[np.unique(line[order], return_index=True)[1]]
        result = _Hits(none.brand.copy(), none.start.copy(), none.end.copy())
        result.brand[line[first]] = self._brand[key_ids[first]]
        result.start[line[first]] = start[first]
        result.end[line[first]] = start[first] + length[first]
        return result


class _PrefixIndex:
    """Brands cut short: every proper prefix of a key (spaced or joined) of at least
    ``PREFIX_MIN_LETTERS`` letters and ``PREFIX_MIN_SHARE`` of the key's letters, mapped to its
    brand, or to -1 when it begins keys of two brands (such a prefix identifies neither).
    Prefixes made only of generic words ("cream" of Cream Silk) are left out."""

    def __init__(self, keys: pd.DataFrame, skip_words: frozenset[str]) -> None:
        owners: dict[str, set[int]] = {}
        for key, brand in zip(keys["key"], keys["brand_id"]):
            for form in {key, _compact(key)}:
                letters = len(_compact(form))
                need = max(PREFIX_MIN_LETTERS, PREFIX_MIN_SHARE * letters)
                for end in range(len(form) - 1, 0, -1):
                    prefix = form[:end].rstrip(" ")
                    if len(_compact(prefix)) < need:
                        break
                    owners.setdefault(prefix, set()).add(int(brand))
        table = {
            prefix: next(iter(brands)) if len(brands) == 1 else -1
            for prefix, brands in owners.items()
            if not set(prefix.split()) <= skip_words
        }
        self._table = pd.Series(table, dtype=np.int64)

    def best(self, owners: np.ndarray, grams: np.ndarray, n: int) -> np.ndarray:
        """Per text (``n`` of them): the brand whose key its longest n-gram begins; -1 when
        none; -2 when that n-gram (or another one as long) begins two brands' keys."""
        brand = np.full(n, -1, np.int32)
        if len(grams) == 0 or self._table.empty:
            return brand
        found = self._table.reindex(grams).to_numpy()
        hit = ~np.isnan(found)
        if not hit.any():
            return brand
        frame = pd.DataFrame({
            "owner": owners[hit],
            "brand": found[hit].astype(np.int64),
            "letters": [len(_compact(g)) for g in grams[hit]],
        })  # fmt: skip
        longest = frame[frame["letters"] == frame.groupby("owner")["letters"].transform("max")]
        top = longest.groupby("owner")["brand"].agg(["min", "max"])
        sure = (top["min"] == top["max"]) & (top["min"] >= 0)
        brand[top.index] = np.where(sure, top["min"], -2)
        return brand


def _as_series(values: Iterable[str | None]) -> pd.Series:
    """A list, array, Arrow array or Series of optional strings as an object Series."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_pandas().astype(object)
    if isinstance(values, pd.Series):
        return values.astype(object).reset_index(drop=True)
    return pd.Series(list(values), dtype=object)


def _distinct_keys(names: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Distinct normalised keys of ``names`` and, per name, the index of its key. Raw names are
    deduplicated first so that normalisation runs once per distinct spelling."""
    raw_codes, raw_distinct = pd.factorize(names)
    raw_codes = np.where(raw_codes < 0, len(raw_distinct), raw_codes)  # missing -> "" (last)
    # Names differing only in case are frequent ("SAFEGUARD 85G"): lower-case, dedupe again.
    lowered = _SEPARATOR.join(_clean_texts(list(raw_distinct) + [""])).lower().split(_SEPARATOR)
    low_codes, low_distinct = pd.factorize(pd.Series(lowered, dtype=object))
    keys = normalise_names(list(low_distinct))
    key_codes, distinct = pd.factorize(pd.Series(keys, dtype=object))
    return key_codes[low_codes[raw_codes]], list(distinct)


# ---------------------------------------------------------------------------------------------
# The matcher
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    """Per distinct normalised name: brand id (-1 = none), method code, score in [0, 1]."""

    brand: np.ndarray
    method: np.ndarray  # index into METHODS
    score: np.ndarray


@dataclass(frozen=True)
class _Grams:
    """The candidate n-grams of ``n`` texts: owner (text index), the n-gram as written,
    sound-folded and OCR-folded; and per text its OCR-folded spelling and whether OCR may
    have damaged it."""

    n: int
    owner: np.ndarray
    text: np.ndarray
    sound: np.ndarray
    ocr: np.ndarray
    ocr_texts: list[str]
    suspect: np.ndarray


class BrandMatcher:
    """Assigns brands to product names with the rules of the module docstring.

    ``brand_map``: rows of (brand_name, confidence) - a DataFrame/Arrow table with those columns
    (e.g. nielsen_brand_map.csv) or an iterable of pairs. ``aliases``: rows of (brand_slug, alias)
    as in brand_aliases.csv; a slug names a brand through normalisation ("coca-cola" ->
    Coca-Cola) or as a product line of it ("magic-flakes" -> Magic). ``generic_words``: words
    that describe rather than brand a product, never fuzzy candidates on their own (default:
    the category keywords).
    """

    def __init__(
        self,
        brand_map: TableRows,
        aliases: TableRows = (),
        *,
        min_confidence: float = MIN_CONFIDENCE,
        generic_words: Iterable[str] | None = None,
        workers: int = -1,
    ) -> None:
        brands = _as_frame(brand_map, ["brand_name", "confidence"])
        brands = brands[brands["confidence"].astype(float) >= min_confidence]
        brands = brands.sort_values("confidence", ascending=False, kind="stable")
        norms = normalise_names(brands["brand_name"])
        keep = ~pd.Series(norms).duplicated().to_numpy() & (pd.Series(norms) != "").to_numpy()
        self.brand_names: list[str] = brands["brand_name"].astype(str)[keep].tolist()
        self.confidence = brands["confidence"].astype(float)[keep].to_numpy()
        self.workers = workers
        if generic_words is None:
            generic_words = default_generic_words()
        generic = {w for phrase in normalise_names(generic_words) for w in phrase.split()}
        self.skip_words = frozenset(PACK_WORDS | RISKY_ALIAS_WORDS | generic)
        aliases = _as_frame(aliases, ["brand_slug", "alias"])
        self.keys = _build_keys(
            self.brand_names, [n for n, k in zip(norms, keep) if k], aliases, self.skip_words
        )
        self._index_keys()

    @classmethod
    def from_reference_data(cls, **options: Any) -> BrandMatcher:
        """The production matcher: nielsen_brand_map.csv and both alias files."""
        return cls(load_brand_map(), load_aliases(), **options)

    def _index_keys(self) -> None:
        keys = self.keys
        self._exact = _LiteralIndex(keys.of_kind(KIND_EXACT))
        self._alias = _LiteralIndex(keys.of_kind(KIND_ALIAS))
        self._sound = _LiteralIndex(keys.of_kind(KIND_SOUND))
        self._ocr = _LiteralIndex(keys.of_kind(KIND_OCR))
        self._hint = _LiteralIndex(keys.of_kind(KIND_EXACT, KIND_ALIAS, KIND_HINT))
        self._prefix = _PrefixIndex(keys.of_kind(KIND_EXACT, KIND_ALIAS), self.skip_words)
        self._ocr_prefix = _PrefixIndex(
            keys.of_kind(KIND_OCR), frozenset(ocr_keys(sorted(self.skip_words))[0])
        )
        anchors = keys.of_kind(KIND_EXACT, KIND_ALIAS)
        anchors = anchors[anchors["key"].map(lambda k: len(_compact(k)) >= FUZZY_MIN_KEY_LEN)]
        self._fuzzy_keys: list[str] = anchors["key"].tolist()
        self._fuzzy_brand = anchors["brand_id"].to_numpy(np.int32)
        # Sound forms get the same 4-letter minimum ("pesi" -> "pis" would match "pesos").
        self._fuzzy_sounds = [
            k if len(_compact(k)) >= FUZZY_MIN_KEY_LEN else "\x00"
            for k in sound_keys(self._fuzzy_keys)
        ]

    # -- public API ---------------------------------------------------------------------------

    def match(
        self, names: Sequence[str | None], hints: Sequence[str | None] | None = None
    ) -> pa.Table:
        """Brand, method and confidence for each (product name, device hint) pair.

        Pass distinct pairs (repeats are fine, only slower to hand back). Returns a table aligned
        with the input: brand (str, "Unknown Brand" when none), method, confidence (float).
        """
        names = _as_series(names)
        hints = pd.Series([None] * len(names), dtype=object) if hints is None else _as_series(hints)
        if len(hints) != len(names):
            raise ValueError(f"names and hints differ in length: {len(names)} != {len(hints)}")
        codes, distinct = _distinct_keys(names)
        decision = self._decide(distinct)
        brand = decision.brand[codes]
        method = decision.method[codes]
        score = decision.score[codes]
        self._apply_hints(hints, brand, method, score)
        return self._to_table(brand, method, score)

    # -- rules --------------------------------------------------------------------------------

    def _decide(self, texts: list[str]) -> _Decision:
        """Rules (a)-(e) over distinct normalised names."""
        n = len(texts)
        brand = np.full(n, -1, np.int32)
        method = np.full(n, METHODS.index(METHOD_NONE), np.int8)
        score = np.zeros(n)

        def decide(rows: np.ndarray, found: np.ndarray, code: str, factor) -> None:
            hit = found >= 0
            brand[rows[hit]] = found[hit]
            method[rows[hit]] = METHODS.index(code)
            score[rows[hit]] = factor[hit] if isinstance(factor, np.ndarray) else factor

        exact = self._exact.best(texts)
        alias = self._alias.best(texts)
        # Sound-alike spellings only matter where no literal key was found.
        unmatched = np.flatnonzero((exact.brand < 0) & (alias.brand < 0))
        sound = _Hits(np.full(n, -1, np.int32), np.zeros(n, np.int64), np.zeros(n, np.int64))
        sound.brand[unmatched] = self._sound.best(sound_keys([texts[i] for i in unmatched])).brand
        # An alias of another brand strictly containing the exact hit is the better evidence.
        nests = (
            (alias.brand >= 0)
            & (alias.brand != exact.brand)
            & (alias.start <= exact.start)
            & (alias.end >= exact.end)
            & (alias.length > exact.length)
        )
        everyone = np.arange(n)
        decide(everyone, np.where(nests, -1, exact.brand), METHOD_EXACT, 1.0)
        decide(everyone, np.where(brand < 0, alias.brand, -1), METHOD_ALIAS, ALIAS_FACTOR)
        decide(everyone, np.where(brand < 0, sound.brand, -1), METHOD_ALIAS, ALIAS_FACTOR)

        todo = np.flatnonzero(brand < 0)
        grams = self._ngrams([texts[i] for i in todo])
        # (c) OCR: a brand key in the OCR-folded spelling, only for names with a word that OCR
        # may have damaged (a digit inside letters, "rn").
        suspect = grams.suspect
        found = np.full(len(todo), -1, np.int32)
        found[suspect] = self._ocr.best([grams.ocr_texts[i] for i in np.flatnonzero(suspect)]).brand
        decide(todo, found, METHOD_OCR, OCR_FACTOR)
        # (d) prefix: the brand cut short, as written or OCR-folded.
        prefix = self._prefix.best(grams.owner, grams.text, len(todo))
        by_ocr = self._ocr_prefix.best(grams.owner, grams.ocr, len(todo))
        prefix = np.where((prefix == -1) & suspect, by_ocr, prefix)
        decide(todo, np.where(brand[todo] < 0, prefix, -1), METHOD_PREFIX, PREFIX_FACTOR)
        # (e) fuzzy; not for a name whose brand was cut short where two brands begin alike
        # (-2): it stays unknown.
        found, similarity = self._fuzzy_best(grams)
        found = np.where((brand[todo] < 0) & (prefix != -2), found, -1)
        decide(todo, found, METHOD_FUZZY, similarity)
        return _Decision(brand, method, score)

    def _fuzzy_best(self, grams: _Grams) -> tuple[np.ndarray, np.ndarray]:
        """Rule (e): best brand (or -1) and OSA similarity (0-1) per text.

        Every whole-word 1-3-gram of the name, as written and sound-folded, is compared with
        every brand key of 4+ letters (names, aliases, joined variants) in a few
        ``process.cdist`` calls. A pair counts when its OSA similarity (1 - edits / longer
        length) is >= 0.80, or, as written, when the n-gram is a key of 6+ letters with one or
        two letters lost, or a 4-letter key with two neighbours swapped (``_best_keys``). The
        best similarity wins; a name whose best similarity two brands reach stays unknown.

        Why OSA distance on n-grams. On the 7,888 distinct names of the labelled set that
        reached this rule in the first version (similarity cutoff 0.80), share of branded names
        right / branded names wrong / unbranded names given a brand:

            partial_ratio(key, whole name)     74.8% / 8.5% / 25.7%
            token_set_ratio(key, whole name)    9.2% / 2.8% /  0.2%
            WRatio(key, whole name)            42.4% / 14.6% / 2.2%
            ratio(key, whole name)              8.4% / 0.0% /  0.1%
            Indel = ratio(key, n-grams)        80.6% / 1.1% /  3.5%
            Levenshtein(key, n-grams)          67.5% / 0.5% /  0.0%
            OSA(key, n-grams)  [chosen]        74.6% / 0.4% /  0.0%

        Whole-name scorers either find a brand inside any longer word ("ola" scores 100 in
        "colas" with partial_ratio) or drown a short brand in the rest of the name. On whole
        words, Indel counts a changed letter as two edits but two extra letters as two as well,
        so "bawang" (garlic) ~ "boybawang" reached the cutoff; Levenshtein/OSA count one edit
        per typo, and OSA also counts a swap of neighbours ("safegaurd") as one.

        Why the edits a match may need scale with the key's length, and not only by one
        cutoff: two letters lost from a 6-letter brand ("nsea" for Nestea) are a similarity of
        0.67, yet such a loss is what transcription does, while one changed letter in a
        4-letter brand already makes everyday words (tide/ride, dove/love, milo/mild) and two
        changed letters in a 6-letter one too ("patis", fish sauce, is two edits from the
        alias "piatos"). So a 4-letter key takes a letter too many or a swap, a 5-9-letter
        key one edit (two only when they are letters lost inside it), a key of 10-14
        characters two edits, 15-19 three, 20+ four.
        """
        n = grams.n
        brand, similarity = np.full(n, -1, np.int32), np.zeros(n)
        if len(grams.text) == 0 or not self._fuzzy_keys:
            return brand, similarity
        gram_codes, distinct = pd.factorize(grams.text)
        first_seen = np.unique(gram_codes, return_index=True)[1]
        key, sim = self._best_keys(list(distinct), self._fuzzy_keys, extended=True)
        sound_key, sound_sim = self._best_keys(
            grams.sound[first_seen].tolist(), self._fuzzy_sounds, extended=False
        )
        # Both spellings of every n-gram compete; a tie of two brands (-2) anywhere at the
        # best similarity leaves the name unknown.
        occ_key = np.concatenate([key[gram_codes], sound_key[gram_codes]])
        frame = pd.DataFrame({
            "owner": np.concatenate([grams.owner, grams.owner]),
            "brand": np.where(occ_key >= 0, self._fuzzy_brand[np.maximum(occ_key, 0)], -1),
            "sim": np.concatenate([sim[gram_codes], sound_sim[gram_codes]]),
        })  # fmt: skip
        frame = frame[frame["sim"] > 0]
        if frame.empty:
            return brand, similarity
        best = frame[frame["sim"] == frame.groupby("owner")["sim"].transform("max")]
        top = best.groupby("owner").agg(low=("brand", "min"), high=("brand", "max"),
                                         sim=("sim", "max"))  # fmt: skip
        sure = (top["low"] == top["high"]) & (top["low"] >= 0)
        brand[top.index[sure]] = top["low"][sure]
        similarity[top.index[sure]] = np.round(top["sim"][sure], 3)
        return brand, similarity

    def _best_keys(
        self, grams: list[str], keys: list[str], extended: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per n-gram: the index of the closest of ``keys`` that it may match (-1 when none;
        -2 when keys of two brands are equally close) and its similarity.

        A pair may match when its OSA similarity is >= ``FUZZY_CUTOFF``; with ``extended``
        also when the n-gram is a key of 6+ letters with one or two letters lost inside it, or
        a 4-letter key with two neighbours swapped. That is never more than
        ``FUZZY_MAX_EDITS`` edits, so n-grams are grouped by length and compared only with
        keys whose length is close enough, and the rules run only on n-grams that close.
        """
        gram_len = np.fromiter(map(len, grams), np.int64, len(grams))
        key_len = np.fromiter(map(len, keys), np.int64, len(keys))
        best_key = np.full(len(grams), -1, np.int64)
        best_sim = np.zeros(len(grams))
        for length in np.unique(gram_len):
            cols = np.flatnonzero(np.abs(key_len - length) <= FUZZY_MAX_EDITS)
            if len(cols) == 0:
                continue
            rows = np.flatnonzero(gram_len == length)
            candidates = [keys[j] for j in cols]
            # The most edits any rule accepts per key: what the cutoff allows, or two lost letters.
            limit = np.floor((1 - FUZZY_CUTOFF) * np.maximum(key_len[cols], length) + 1e-9)
            if extended:
                limit = np.maximum(limit, np.where(key_len[cols] >= 6, 2, 1))
            for lo in range(0, len(rows), _CDIST_CHUNK):
                chunk = rows[lo : lo + _CDIST_CHUNK]
                distance = process.cdist(
                    [grams[i] for i in chunk], candidates, scorer=OSA.distance,
                    score_cutoff=FUZZY_MAX_EDITS, workers=self.workers, dtype=np.int32,
                )  # fmt: skip
                # (cdist reports any distance beyond its cutoff as cutoff + 1.)
                near = np.flatnonzero((distance <= limit).any(axis=1))
                if len(near) == 0:
                    continue
                near_grams = [grams[i] for i in chunk[near]]
                sim = self._pair_similarity(
                    near_grams, length, candidates, key_len[cols], distance[near], extended
                )
                best = sim.argmax(axis=1)
                top = sim[np.arange(len(near)), best]
                at_top = (sim == top[:, None]) & (top[:, None] > 0)
                owner = self._fuzzy_brand[cols]
                high = np.where(at_top, owner, -1).max(axis=1)
                low = np.where(at_top, owner, np.iinfo(np.int32).max).min(axis=1)
                best_key[chunk[near]] = np.where(
                    top <= 0, -1, np.where(low == high, cols[best], -2)
                )
                best_sim[chunk[near]] = top
        return best_key, best_sim

    @staticmethod
    def _pair_similarity(
        grams: list[str], length: int, keys: list[str], key_len: np.ndarray,
        distance: np.ndarray, extended: bool,
    ) -> np.ndarray:  # fmt: skip
        """OSA similarity of each (n-gram of ``length``, key) pair that may match, else 0."""
        sim = 1.0 - distance / np.maximum(key_len, length)
        # A hair below the cutoff: 1 - 1/5 must count as 0.80 despite float rounding.
        ok = (sim >= FUZZY_CUTOFF - 1e-9) & (distance <= FUZZY_MAX_EDITS)
        if extended:
            # Letters lost inside the key: as many edits as letters missing (deletions only),
            # first and last letters kept ("rest" is no Presto, "monte" no Monster).
            lost = (distance == key_len - length) & (distance <= 2) & (key_len >= 6)
            if lost.any():
                edges = np.array([g[0] + g[-1] for g in grams], object)[:, None] == np.array(
                    [k[0] + k[-1] for k in keys], object
                )
                ok |= lost & edges
            if length == FUZZY_MIN_KEY_LEN:
                swap = (distance == 1) & (key_len == length)
                if swap.any():
                    ok |= swap & (
                        np.array(["".join(sorted(g)) for g in grams], object)[:, None]
                        == np.array(["".join(sorted(k)) for k in keys], object)
                    )
        return np.where(ok, sim, 0.0)

    def _ngrams(self, texts: list[str]) -> _Grams:
        """Every whole-word 1..3-gram of ``texts`` that could be a brand: 4+ letters, not only
        generic words or numbers; as written, sound-folded and OCR-folded (vectorised)."""
        words, counts = _words_of(texts)
        sounds = _fold_word_array(words)
        ocr_texts, suspect = ocr_keys(texts)
        ocr_words = _words_of(ocr_texts)[0]
        owner = np.repeat(np.arange(len(texts)), counts)
        idle = pd.Series(words, dtype=object).isin(self.skip_words).to_numpy()
        idle |= np.fromiter((w[:1].isdigit() for w in words), bool, len(words))
        letters = np.fromiter(map(len, words), np.int64, len(words))
        parts: list[tuple[np.ndarray, ...]] = []
        for size in range(1, FUZZY_MAX_WORDS + 1):
            m = len(words) - size + 1
            if m <= 0:
                break
            same_text = owner[:m] == owner[size - 1 : size - 1 + m]
            all_idle = np.logical_and.reduce([idle[k : k + m] for k in range(size)])
            length = np.sum([letters[k : k + m] for k in range(size)], axis=0)
            at = np.flatnonzero(same_text & ~all_idle & (length >= FUZZY_MIN_KEY_LEN))
            gram, sound, ocr = words[at], sounds[at], ocr_words[at]
            for k in range(1, size):
                gram = gram + " " + words[at + k]
                sound = sound + " " + sounds[at + k]
                ocr = ocr + " " + ocr_words[at + k]
            parts.append((owner[at], gram, sound, ocr))
        columns = [np.concatenate(c) for c in zip(*parts)] if parts else [
            np.zeros(0, np.int64), *(np.zeros(0, object) for _ in range(3))
        ]  # fmt: skip
        owners, grams, gram_sounds, gram_ocr = columns
        return _Grams(
            len(texts), owners, grams, gram_sounds, gram_ocr, ocr_texts=ocr_texts, suspect=suspect
        )

    def _apply_hints(
        self, hints: pd.Series, brand: np.ndarray, method: np.ndarray, score: np.ndarray
    ) -> None:
        """Rule (f): for names still without a brand, trust the device's brandName if it names a
        known brand literally, through an alias (risky ones included) or by sound."""
        todo = np.flatnonzero(brand < 0)
        if len(todo) == 0:
            return
        pending = hints.iloc[todo].reset_index(drop=True)
        has_hint = pending.notna().to_numpy() & (pending.astype(str).str.strip() != "").to_numpy()
        todo = todo[has_hint]
        if len(todo) == 0:
            return
        codes, distinct = pd.factorize(pd.Series(normalise_names(pending[has_hint]), dtype=object))
        texts = list(distinct)
        hint_brand = self._hint.best(texts).brand
        by_sound = self._sound.best(sound_keys(texts)).brand
        hint_brand = np.where(hint_brand >= 0, hint_brand, by_sound)[codes]
        hit = hint_brand >= 0
        brand[todo[hit]] = hint_brand[hit]
        method[todo[hit]] = METHODS.index(METHOD_HINT)
        score[todo[hit]] = HINT_FACTOR

    def _to_table(self, brand: np.ndarray, method: np.ndarray, score: np.ndarray) -> pa.Table:
        names = pa.array(self.brand_names + [UNKNOWN_BRAND], pa.string())
        ids = np.where(brand >= 0, brand, len(self.brand_names))
        confidence = np.where(brand >= 0, score * np.append(self.confidence, 0.0)[ids], 0.0)
        return pa.table(
            {
                "brand": names.take(pa.array(ids)),
                "method": pa.array(METHODS, pa.string()).take(pa.array(method.astype(np.int32))),
                "confidence": pa.array(np.round(confidence, 4), pa.float64()),
            }
        )

    # -- cache invalidation support -----------------------------------------------------------

    def signatures(self) -> dict[str, tuple]:
        """Per brand: what decides its matches (confidence and every key by kind)."""
        grouped = self.keys.frame.groupby("brand_id")
        sig = {}
        for i, name in enumerate(self.brand_names):
            keys = grouped.get_group(i) if i in grouped.groups else self.keys.frame.iloc[:0]
            by_kind = {k: frozenset(keys.loc[keys["kind"] == k, "key"]) for k in _KIND_RANK}
            sig[name] = (float(self.confidence[i]), by_kind)
        return sig

    def restricted_to(self, brand_names: Iterable[str]) -> BrandMatcher:
        """The same matcher knowing only ``brand_names`` (same keys, same tie-breaks)."""
        wanted = {self.brand_names.index(b) for b in brand_names if b in self.brand_names}
        clone = object.__new__(BrandMatcher)
        clone.__dict__.update(self.__dict__)
        frame = self.keys.frame[self.keys.frame["brand_id"].isin(wanted)]
        clone.keys = KeyTable(frame, self.keys.dropped)
        clone._index_keys()
        return clone


# ---------------------------------------------------------------------------------------------
# Cache invalidation
# ---------------------------------------------------------------------------------------------


def affected_by_map_change(
    cached: pa.Table | pd.DataFrame,
    old_brand_map: TableRows,
    new_brand_map: TableRows,
    old_aliases: TableRows,
    new_aliases: TableRows,
    **matcher_options: Any,
) -> np.ndarray:
    """Which cached brand answers must be re-matched after the brand map or aliases changed.

    ``cached`` holds one row per cached answer: ``name_key`` (``normalise_name`` of the product
    name), ``brand`` and ``method`` as the old matcher returned them, and optionally ``hint_key``
    (the device hint the answer was computed with; without it rows are assumed hint-less, so an
    added brand is not checked against hints).

    A brand "changed" when it was removed or added, its confidence changed, or any of its
    effective keys changed (its own name, an alias, a generated variant, or a key it lost or
    won because another brand now claims the same text). Returned mask = True exactly for:

    1. rows whose cached brand changed - all its rows, except that if only its alias/variant
       keys changed, rows it won by the exact rule stay valid (aliases never override its own
       exact hit);
    2. rows that a changed brand contends for: the new matcher, and the old one, restricted to
       the changed brands are run over all cached keys (cheap: a few brands), and each row
       either assigns to a brand other than the cached one is re-matched by the full new
       matcher; it is flagged only if that full answer differs from the cached brand/method.
       The old matcher finds the rows a changed brand used to tie with (a prefix or fuzzy
       match two brands reach equally stays unknown, or goes to the device hint).

    Nothing else can change: rules only compare the keys of a name's candidate brands, and the
    winner of an unchanged row is neither a changed brand, nor beaten or tied by one.
    """
    frame = _as_frame(
        cached,
        ["name_key", "brand", "method"] + (["hint_key"] if _has_col(cached, "hint_key") else []),
    )
    old = BrandMatcher(old_brand_map, old_aliases, **matcher_options)
    new = BrandMatcher(new_brand_map, new_aliases, **matcher_options)
    redefined, rekeyed = _changed_brands(old.signatures(), new.signatures())

    lost = frame["brand"].isin(redefined) | (
        frame["brand"].isin(rekeyed) & (frame["method"] != METHOD_EXACT)
    )
    hints = frame["hint_key"].tolist() if "hint_key" in frame else None
    names = frame["name_key"].tolist()
    # Contenders: rows a changed brand could win now, or contested before (a tie with it left
    # the row unknown, or to the device hint).
    contended = np.zeros(len(frame), bool)
    for matcher in (new, old):
        changed_here = [b for b in redefined | rekeyed if b in matcher.brand_names]
        if changed_here:
            found = matcher.restricted_to(changed_here).match(names, hints).column("brand")
            found = found.to_numpy(zero_copy_only=False)
            contended |= (found != UNKNOWN_BRAND) & (found != frame["brand"].to_numpy())
    candidates = np.flatnonzero(contended & ~lost.to_numpy())
    gained = np.zeros(len(frame), bool)
    if len(candidates):
        sub = frame.iloc[candidates]
        full = new.match(sub["name_key"].tolist(), sub["hint_key"].tolist() if hints else None)
        differs = (
            full.column("brand").to_numpy(zero_copy_only=False) != sub["brand"].to_numpy()
        ) | (full.column("method").to_numpy(zero_copy_only=False) != sub["method"].to_numpy())
        gained[candidates[differs]] = True
    return lost.to_numpy() | gained


def _has_col(table: pa.Table | pd.DataFrame, column: str) -> bool:
    return column in (table.column_names if isinstance(table, pa.Table) else table.columns)


def _changed_brands(old: dict[str, tuple], new: dict[str, tuple]) -> tuple[set[str], set[str]]:
    """(brands whose confidence/own name changed or that appeared/disappeared,
    brands whose other keys only changed)."""
    redefined, rekeyed = set(), set()
    for brand in old.keys() | new.keys():
        if brand not in old or brand not in new:
            redefined.add(brand)
            continue
        (old_conf, old_keys), (new_conf, new_keys) = old[brand], new[brand]
        if old_conf != new_conf or old_keys[KIND_EXACT] != new_keys[KIND_EXACT]:
            redefined.add(brand)
        elif old_keys != new_keys:
            rekeyed.add(brand)
    return redefined, rekeyed
