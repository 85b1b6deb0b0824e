"""Offline WordNet 3.0: find or assemble the database, and read senses, synonyms and homographs from it.

NLTK's :class:`~nltk.corpus.reader.WordNetCorpusReader` reads a folder holding the WordNet database files plus a
``lexnames`` file. The database is looked for, in order, at a path the user gives, on NLTK's data path
(``nltk.download("wordnet")``), and in Debian's ``/usr/share/wordnet`` (packages ``wordnet-base`` and
``wordnet-sense-index``). Debian omits ``lexnames`` and ``/usr/share`` is read-only, so a reader folder
``<cache_root>/corpora/wordnet`` is assembled from copies of the Debian files plus the
``lexnames`` file shipped with this package, and ``cache_root`` is added to ``nltk.data.path``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hf_tokenembed.atomic import written_dir

logger = logging.getLogger(__name__)

__all__ = [
    "DEBIAN_WORDNET_DIR",
    "LEXNAMES_FILE",
    "WORDNET_FILES",
    "Sense",
    "WordNet",
    "assemble_wordnet",
    "build_homographs",
    "build_senses",
    "default_cache_root",
    "find_form",
    "find_wordnet",
    "gloss_context",
    "homographs_features",
    "lemma_key",
    "load_wordnet",
    "senses_features",
]

DEBIAN_WORDNET_DIR = Path("/usr/share/wordnet")
LEXNAMES_FILE = Path(__file__).with_name("lexnames.txt")
# The files NLTK's reader opens; index.sense is optional (lemma keys only).
WORDNET_FILES = (
    "data.noun", "data.verb", "data.adj", "data.adv",
    "index.noun", "index.verb", "index.adj", "index.adv",
    "noun.exc", "verb.exc", "adj.exc", "adv.exc",
)  # fmt: skip
OPTIONAL_FILES = ("index.sense", "cntlist.rev", "cntlist", "frames.vrb", "sentidx.vrb", "sents.vrb")

INSTALL_HINT = (
    "Install WordNet 3.0 with `apt-get install wordnet-base wordnet-sense-index` (Debian/Ubuntu) or "
    "`python -c \"import nltk; nltk.download('wordnet')\"`, or pass the folder holding data.noun/index.noun "
    "as `path`."
)

POS_NAMES = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}


def default_cache_root() -> Path:
    """``$HF_TOKENEMBED_CACHE`` or ``~/.cache/hf_tokenembed``."""
    env = os.environ.get("HF_TOKENEMBED_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hf_tokenembed"


def _has_database(folder: Path) -> bool:
    return all((folder / name).is_file() for name in WORDNET_FILES)


def _is_reader_folder(folder: Path) -> bool:
    return _has_database(folder) and (folder / "lexnames").is_file()


def assemble_wordnet(source: str | os.PathLike, cache_root: str | os.PathLike | None = None) -> Path:
    """Assemble ``<cache_root>/corpora/wordnet`` from a database folder lacking ``lexnames`` (e.g. Debian's).

    The database files (~37 MB) are copied, not linked: NLTK >= 3.9 refuses symlinks that resolve outside the
    reader folder and multiply-linked files. The packaged ``lexnames`` is
    copied in. The folder is built in a temporary directory and renamed into place, so it is never half-written.
    Returns the reader folder.
    """
    source = Path(source)
    if not _has_database(source):
        missing = [name for name in WORDNET_FILES if not (source / name).is_file()]
        raise FileNotFoundError(
            f"`source` {source} is not a WordNet database folder (missing {missing}). {INSTALL_HINT}"
        )
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    target = root / "corpora" / "wordnet"
    marker = target / ".source"
    if _is_reader_folder(target) and marker.is_file() and marker.read_text() == str(source.resolve()):
        return target
    with written_dir(target) as tmp:
        for name in WORDNET_FILES + OPTIONAL_FILES:
            src = (source / name).resolve()
            if not src.is_file():
                continue
            shutil.copyfile(src, tmp / name)
        shutil.copyfile(LEXNAMES_FILE, tmp / "lexnames")
        (tmp / ".source").write_text(str(source.resolve()))
    logger.info("Assembled WordNet reader folder %s from %s", target, source)
    return target


def find_wordnet(path: str | os.PathLike | None = None, *, cache_root: str | os.PathLike | None = None):
    """Locate a WordNet database NLTK can read; returns a folder path (or NLTK path pointer for zipped data).

    Order: ``path`` (a database folder or a root holding ``corpora/wordnet``), NLTK's data path, Debian's
    ``/usr/share/wordnet`` (assembled under ``cache_root``). Raises :class:`FileNotFoundError` saying how to
    install WordNet when none is found.
    """
    if path is not None:
        folder = Path(path).expanduser()
        for candidate in (folder, folder / "corpora" / "wordnet", folder / "wordnet"):
            if _is_reader_folder(candidate) and candidate.parent.name == "corpora":
                return candidate
            if _has_database(candidate):
                return assemble_wordnet(candidate, cache_root)
        raise FileNotFoundError(
            f"`path` {folder} holds no WordNet database (data.noun, index.noun, ...). {INSTALL_HINT}"
        )
    import nltk

    try:
        return nltk.data.find("corpora/wordnet")
    except LookupError:
        pass
    try:
        return nltk.data.find("corpora/wordnet.zip/wordnet/")
    except LookupError:
        pass
    if _has_database(DEBIAN_WORDNET_DIR):
        return assemble_wordnet(DEBIAN_WORDNET_DIR, cache_root)
    raise FileNotFoundError(
        f"No WordNet database found on NLTK's data path or in {DEBIAN_WORDNET_DIR}. {INSTALL_HINT}"
    )


def _authorize(*folders: str | os.PathLike) -> None:
    """Append ``folders`` to ``nltk.data.path``: NLTK >= 3.9 only opens files under its data path."""
    import nltk

    known = {str(Path(str(entry)).expanduser().resolve()) for entry in nltk.data.path if isinstance(entry, str)}
    for folder in folders:
        resolved = str(Path(folder).expanduser().resolve())
        if resolved not in known:
            nltk.data.path.append(resolved)
            known.add(resolved)


def lemma_key(word: str) -> str:
    """How lemmas are matched across WiC rows, the senses table and the index: ``"Red_herring"`` → ``"red herring"``."""
    return word.replace("_", " ").lower()


def gloss_context(word: str, gloss: str) -> tuple[str, tuple[int, int]]:
    """A sense's gloss rendered as a context for ``word``: ``("bank: sloping land ...", (0, 4))``."""
    word = word.replace("_", " ")
    return f"{word}: {gloss}", (0, len(word))


def find_form(text: str, form: str) -> tuple[int, int] | None:
    """Char span ``[start, end)`` of ``form`` as a whole word/phrase in ``text`` (case-insensitive), or None."""
    parts = [re.escape(part) for part in re.split(r"[\s_]+", form.strip()) if part]
    if not parts:
        return None
    match = re.search(r"(?<![\w-])" + r"[\s-]+".join(parts) + r"(?![\w-])", text, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


@dataclass
class Sense:
    """One WordNet sense of a word: its synset, part of speech, lexicographer file, gloss, examples, the synset's
    other lemmas (``synonyms``, spaces for phrases) and its first (instance) hypernym's gloss."""

    word: str
    synset: str
    pos: str
    lexname: str
    gloss: str
    examples: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    synonyms: list[str] = field(default_factory=list)
    hypernym_gloss: str = ""


class WordNet:
    """Thin helpers over NLTK's :class:`~nltk.corpus.reader.WordNetCorpusReader`.

    Args:
        root: a reader folder (or NLTK path pointer) as returned by :func:`find_wordnet`.
    """

    def __init__(self, root) -> None:
        import warnings

        from nltk.corpus.reader import WordNetCorpusReader

        self.root = root
        self._multiword: list[str] | None = None
        if isinstance(root, str | Path):
            # NLTK opens only files under its data path, and its reader looks itself up as "corpora/wordnet".
            folder = Path(root)
            _authorize(folder.parent.parent if folder.parent.name == "corpora" else folder)
        with warnings.catch_warnings():  # "multilingual functions are not available": no OMW offline, expected
            warnings.simplefilter("ignore", UserWarning)
            self.reader = WordNetCorpusReader(str(root) if isinstance(root, Path) else root, None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, version={self.reader.get_version()!r})"

    @staticmethod
    def _key(word: str) -> str:
        return word.strip().replace(" ", "_").lower()

    def synsets(self, word: str, pos: str | None = None) -> list:
        """Synsets in which ``word`` (a lemma, spaces or underscores for phrases) is itself a lemma (no morphy)."""
        key = self._key(word)
        if not key:
            return []
        return [
            synset
            for synset in self.reader.synsets(key, pos=pos)
            if any(name.lower() == key for name in synset.lemma_names())
            and (pos is None or POS_NAMES[synset.pos()] == pos)
        ]

    def synonyms(self, word: str, pos: str | None = None) -> list[tuple[str, str]]:
        """Lemmas sharing a synset with ``word``, as ``(lemma, pos)`` with spaces for phrases, in synset order."""
        key, seen, out = self._key(word), set(), []
        for synset in self.synsets(word, pos):
            p = POS_NAMES[synset.pos()]
            for name in synset.lemma_names():
                if name.lower() != key and (name.lower(), p) not in seen:
                    seen.add((name.lower(), p))
                    out.append((name.replace("_", " "), p))
        return out

    def hypernyms(self, word: str, pos: str | None = None) -> list[str]:
        """Names of the direct (instance) hypernym synsets over all senses of ``word``."""
        out: dict[str, None] = {}
        for synset in self.synsets(word, pos):
            for hyper in synset.hypernyms() + synset.instance_hypernyms():
                out[hyper.name()] = None
        return list(out)

    def senses(self, word: str, pos: str | None = None) -> list[Sense]:
        """The senses of ``word``; examples are kept only where the word form is found, with its char span."""
        out, key = [], self._key(word)
        for synset in self.synsets(word, pos):
            hypernyms = synset.hypernyms() + synset.instance_hypernyms()
            examples, spans = [], []
            for example in synset.examples():
                span = find_form(example, word)
                if span is not None:
                    examples.append(example)
                    spans.append(span)
            out.append(
                Sense(
                    word,
                    synset.name(),
                    POS_NAMES[synset.pos()],
                    synset.lexname(),
                    synset.definition(),
                    examples,
                    spans,
                    [name.replace("_", " ") for name in synset.lemma_names() if name.lower() != key],
                    hypernyms[0].definition() if hypernyms else "",
                )
            )
        return out

    def lexnames(self, word: str) -> list[str]:
        """Distinct lexicographer files of the senses of ``word``, in sense order."""
        return list(dict.fromkeys(synset.lexname() for synset in self.synsets(word)))

    def is_homograph(self, word: str, *, within_pos: bool = True) -> bool:
        """Whether the senses of ``word`` fall in different lexicographer files.

        With ``within_pos`` (default) two senses of one part of speech must differ (bank: noun.object vs
        noun.group), so a mere noun/verb conversion ("run") does not count.
        """
        by_pos: dict[str, set[str]] = {}
        for synset in self.synsets(word):
            by_pos.setdefault(POS_NAMES[synset.pos()] if within_pos else "*", set()).add(synset.lexname())
        return any(len(names) > 1 for names in by_pos.values())

    def homographs(self, words: Iterable[str], *, within_pos: bool = True) -> Iterator[dict]:
        """Rows ``{word, lexnames, synsets}`` for the homographs among ``words``."""
        for word in words:
            if self.is_homograph(word, within_pos=within_pos):
                synsets = self.synsets(word)
                yield {
                    "word": word,
                    "lexnames": list(dict.fromkeys(s.lexname() for s in synsets)),
                    "synsets": [s.name() for s in synsets],
                }

    def multiword_lemmas(self) -> list[str]:
        """Every multi-word lemma name in WordNet (~64k), underscores replaced by spaces, original casing."""
        if self._multiword is None:
            names: dict[str, None] = {}
            for synset in self.reader.all_synsets():
                names.update((name, None) for name in synset.lemma_names() if "_" in name)
            self._multiword = [name.replace("_", " ") for name in names]
        return list(self._multiword)

    def synonym_pairs(self, exclude: Iterable[str] = ()) -> list[tuple[str, str]]:
        """Every pair of lemmas sharing a synset (spaces for phrases, original casing), in a stable order.

        Lemmas in ``exclude`` (compared lowercased, e.g. the evaluation words) are left out; a pair differing only
        in case is not a synonym pair. Each unordered pair appears once.
        """
        excluded = {word.lower() for word in exclude}
        pairs: dict[tuple[str, str], None] = {}
        for synset in self.reader.all_synsets():
            names = [n for n in (n.replace("_", " ") for n in synset.lemma_names()) if n.lower() not in excluded]
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    if a.lower() != b.lower() and (b, a) not in pairs:
                        pairs[(a, b)] = None
        return list(pairs)

    def all_examples(self) -> Iterator[str]:
        """Every example sentence of every synset."""
        for synset in self.reader.all_synsets():
            yield from synset.examples()

    def too_close(self, a, b) -> bool:
        """Whether synsets ``a`` and ``b`` are too close to tell apart (WiC's rule): the same synset, siblings
        (a shared direct hypernym), direct hypernym/hyponym, or similar adjectives."""
        if a == b:
            return True
        ha = set(a.hypernyms() + a.instance_hypernyms())
        hb = set(b.hypernyms() + b.instance_hypernyms())
        return bool(b in ha or a in hb or ha & hb or b in a.similar_tos() or a in b.similar_tos())


@functools.lru_cache(maxsize=4)
def _load(path: str | None, cache_root: str | None) -> WordNet:
    return WordNet(find_wordnet(path, cache_root=cache_root))


def load_wordnet(path: str | os.PathLike | None = None, *, cache_root: str | os.PathLike | None = None) -> WordNet:
    """A (cached) :class:`WordNet` over the database :func:`find_wordnet` locates."""
    return _load(None if path is None else str(path), None if cache_root is None else str(cache_root))


def senses_features():
    """``datasets.Features`` of the senses table."""
    import datasets

    return datasets.Features(
        {
            "word": datasets.Value("string"),
            "synset": datasets.Value("string"),
            "pos": datasets.Value("string"),
            "lexname": datasets.Value("string"),
            "gloss": datasets.Value("string"),
            "examples": datasets.Sequence(datasets.Value("string")),
            "spans": datasets.Sequence(datasets.Sequence(datasets.Value("int32"))),
            "synonyms": datasets.Sequence(datasets.Value("string")),
            "hypernym_gloss": datasets.Value("string"),
        }
    )


def homographs_features():
    """``datasets.Features`` of the homographs table."""
    import datasets

    return datasets.Features(
        {
            "word": datasets.Value("string"),
            "lexnames": datasets.Sequence(datasets.Value("string")),
            "synsets": datasets.Sequence(datasets.Value("string")),
        }
    )


def build_senses(wn: WordNet, words: Iterable[str], *, progress: bool = False):
    """One row per (word, synset) for the ``words`` (and phrases) WordNet knows, as a ``datasets.Dataset``."""
    import datasets
    from tqdm.auto import tqdm

    rows: dict[str, list] = {name: [] for name in senses_features()}
    for word in tqdm(list(words), desc="senses", unit="word", disable=not progress):
        for sense in wn.senses(word):
            for name in ("word", "synset", "pos", "lexname", "gloss", "examples", "synonyms", "hypernym_gloss"):
                rows[name].append(getattr(sense, name))
            rows["spans"].append([list(span) for span in sense.spans])
    return datasets.Dataset.from_dict(rows, features=senses_features())


def build_homographs(wn: WordNet, words: Iterable[str], *, within_pos: bool = True, progress: bool = False):
    """The homographs among ``words`` (senses in different lexicographer files) as a ``datasets.Dataset``."""
    import datasets
    from tqdm.auto import tqdm

    found = list(
        wn.homographs(tqdm(list(words), desc="homographs", unit="word", disable=not progress), within_pos=within_pos)
    )
    return datasets.Dataset.from_dict(
        {name: [row[name] for row in found] for name in ("word", "lexnames", "synsets")},
        features=homographs_features(),
    )
