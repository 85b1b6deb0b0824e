"""TextReconstructor: the bundle the `text-reconstruction` pipeline loads — a TokenEmbedder, a Selector and a Placer,
with the entries table of their reconstruction vocabulary, in one folder.

```
config.json       TextReconstructorConfig: decoding defaults, the SHA-256 of every other file and of its own values
embedder/         the TokenEmbedder, compact (LoRA + head; the backbone by name)
selector/         the Selector, without its entry keys (they are the vocabulary's, below)
placer/           the Placer
entries.jsonl     one [surface, count] per vocabulary entry, in id order
keys.safetensors  the entries' keys: int8 codes with one scale per row (a quarter of fp32)
```

Selector and Placer weights are stored at `config.storage_dtype` and the keys as int8 codes; the parts are rounded
to that precision when the bundle is assembled, so a loaded bundle decodes exactly as the saved one. The FAISS
index over the keys is rebuilt at load: an exact inner-product index over ~34k keys takes milliseconds, while
shipping it would double the bundle.

Decoding (greedy, verifier beam, repair) lives in `hf_tokenembed.controller.Reconstructor` and the pipeline; this
class assembles, saves, loads and checks the parts. The file imports only torch, transformers and its siblings:
`AutoModel.from_pretrained(bundle, trust_remote_code=True)` loads the parts (each with its own remote code) where
the plugin is not installed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from huggingface_hub.utils.sha import sha_fileobj
from transformers import AutoModel, PreTrainedModel

from .configuration import TextReconstructorConfig

try:  # inside the plugin the parts resolve to its registered classes; as hub remote code, to their own code
    from hf_tokenembed.atomic import written_dir
except ImportError:  # pragma: no cover - exercised by the trust_remote_code test in a subprocess
    written_dir = None
_REMOTE = written_dir is None

__all__ = ["TextReconstructor", "quantize_keys"]

PARTS = ("embedder", "selector", "placer")
ENTRIES_FILE = "entries.jsonl"
KEYS_FILE = "keys.safetensors"
_UNCHECKED = {"config.json", "README.md"}  # the config holds the checksums; the card is free text


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return sha_fileobj(f).hex()


def quantize_keys(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(int8 codes, fp32 scales)` of `(N, d)` keys: per row, the largest magnitude maps to 127."""
    scales = keys.float().abs().amax(dim=1).clamp(min=1e-12) / 127
    return torch.round(keys.float() / scales[:, None]).to(torch.int8), scales


def config_digest(values: dict) -> str:
    """SHA-256 of a saved config's values (canonical JSON), its own ``config_sha256`` left out."""
    body = {k: v for k, v in values.items() if k != "config_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _checked_files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in _UNCHECKED and "__pycache__" not in p.parts
    }


class TextReconstructor(PreTrainedModel):
    """A TokenEmbedder, a Selector and a Placer trained together, and their vocabulary's entries.

    Build one with `from_components` (from trained parts) or `from_pretrained` (a saved bundle), then decode with
    ``pipeline("text-reconstruction", model=bundle)`` or `hf_tokenembed.controller.Reconstructor.from_bundle`.

    Args:
        config: The bundle's `TextReconstructorConfig`.
        embedder: The `TokenEmbedder` whose sentence vectors are the targets.
        selector: The `Selector`, with the vocabulary's keys as its entry keys.
        placer: The `Placer`.
        surfaces: The vocabulary's entries, in id order.
        counts: Their training counts.
        key_codes: `(N, token_dim)` int8 codes of the entries' keys (`quantize_keys`).
        key_scales: `(N,)` their scales; the Selector's entry keys become the decoded, normalised keys.
    """

    config_class = TextReconstructorConfig
    base_model_prefix = "reconstructor"
    main_input_name = "target"

    def __init__(
        self,
        config: TextReconstructorConfig,
        embedder: PreTrainedModel | None = None,
        selector: PreTrainedModel | None = None,
        placer: PreTrainedModel | None = None,
        surfaces: Sequence[str] | None = None,
        counts: Sequence[int] | None = None,
        key_codes: torch.Tensor | None = None,
        key_scales: torch.Tensor | None = None,
    ):
        super().__init__(config)
        if any(part is None for part in (embedder, selector, placer, surfaces, counts, key_codes, key_scales)):
            raise ValueError(
                "a TextReconstructor is assembled from trained parts: use TextReconstructor.from_pretrained(bundle) "
                "or TextReconstructor.from_components(embedder, selector, placer, vocabulary)"
            )
        if len(surfaces) != selector.config.num_entries or len(counts) != len(surfaces):
            raise ValueError(
                f"the Selector scores {selector.config.num_entries} entries, but `surfaces` has {len(surfaces)} "
                f"and `counts` {len(counts)}"
            )
        dims = {
            "embedder sentence": embedder.sentence_dim, "Selector sentence": selector.config.sentence_dim,
            "Placer sentence": placer.config.sentence_dim,
        }  # fmt: skip
        if len(set(dims.values())) != 1 or selector.config.token_dim != placer.config.token_dim:
            raise ValueError(f"the parts disagree on their dimensions: {dims}, token {selector.config.token_dim} "
                             f"(Selector) vs {placer.config.token_dim} (Placer)")  # fmt: skip
        self.embedder = embedder
        self.selector = selector
        self.placer = placer
        self.surfaces = list(surfaces)
        self.counts = [int(c) for c in counts]
        if key_codes.dtype != torch.int8 or tuple(key_scales.shape) != (len(surfaces),):
            raise ValueError("`key_codes` must be int8 and `key_scales` hold one scale per entry")
        self.key_codes, self.key_scales = key_codes, key_scales.float()
        selector.set_entry_keys(key_codes.float() * self.key_scales[:, None])

    @classmethod
    def from_components(cls, embedder, selector, placer, vocabulary, **config_kwargs) -> TextReconstructor:
        """Assemble a bundle from trained parts and the `ReconstructionVocabulary` the Selector was trained on.

        `config_kwargs` go to `TextReconstructorConfig` (`decoding`, `max_words`, `storage_dtype`). The Selector and
        Placer are copied and rounded to `storage_dtype` (default fp16), the keys to int8 codes: the precision they
        are saved at.
        """
        keys = selector.entry_keys.float()
        if tuple(vocabulary.keys.shape) != tuple(keys.shape) or not torch.allclose(vocabulary.keys, keys, atol=1e-3):
            raise ValueError(
                "the Selector's entry keys are not the vocabulary's: it was trained on another vocabulary"
            )
        fingerprint = embedder.fingerprint()
        if vocabulary.fingerprint not in (None, fingerprint):
            raise ValueError(
                f"the vocabulary's keys come from embedder {vocabulary.fingerprint!r}, not {fingerprint!r}"
            )
        config = TextReconstructorConfig(embedder_fingerprint=fingerprint, **config_kwargs)
        codes, scales = quantize_keys(keys)
        parts = []
        for part in (selector, placer):
            part = copy.deepcopy(part).eval()
            dtype = getattr(torch, config.storage_dtype)
            with torch.no_grad():
                for tensor in [*part.parameters(), *part.buffers()]:
                    if tensor.is_floating_point():
                        tensor.copy_(tensor.to(dtype).float())
            parts.append(part)
        return cls(
            config, embedder.eval(), parts[0], parts[1], vocabulary.surfaces, vocabulary.counts.tolist(), codes, scales
        )

    def forward(self, *args, **kwargs):
        raise TypeError(
            "a TextReconstructor is decoded, not called: use pipeline('text-reconstruction', model=...) or "
            "hf_tokenembed.controller.Reconstructor.from_bundle(bundle).reconstruct(vectors)"
        )

    def encode(self, texts: Sequence[str], **kwargs) -> torch.Tensor:
        """Sentence vectors of `texts` (the targets of a round trip)."""
        return self.embedder.encode_sentences(list(texts), **kwargs)

    # ----------------------------------------------------------------------------------------------- saving
    def save_pretrained(self, save_directory: str | os.PathLike, *args, push_to_hub: bool = False, **kwargs) -> None:
        """Write the bundle to a temporary sibling folder, then move it into place (a crash leaves the old one)."""
        if push_to_hub:
            raise ValueError("save the bundle, then call `bundle.push_to_hub(repo_id)`")
        if written_dir is None:
            raise ImportError("saving a bundle needs the plugin: pip install hf-tokenembed")
        if Path(save_directory).is_file():
            raise ValueError(f"`save_directory` {os.fspath(save_directory)!r} is a file, not a folder")
        with written_dir(save_directory) as staging:
            self._write(staging)

    def _write(self, folder: Path) -> None:
        from transformers.dynamic_module_utils import custom_object_save

        self.embedder.save_pretrained(folder / "embedder", save_mode="compact")
        from safetensors.torch import save_file

        dtype = getattr(torch, self.config.storage_dtype)
        for name in ("selector", "placer"):
            state = {k: v.to(dtype) for k, v in getattr(self, name).state_dict().items() if k != "entry_keys"}
            getattr(self, name).save_pretrained(folder / name, state_dict=state)
        save_file({"codes": self.key_codes.contiguous(), "scales": self.key_scales.contiguous()}, folder / KEYS_FILE)
        with open(folder / ENTRIES_FILE, "w", encoding="utf-8") as f:
            for surface, count in zip(self.surfaces, self.counts):
                f.write(json.dumps([surface, count], ensure_ascii=False) + "\n")
        config = copy.deepcopy(self.config)
        config.architectures = [type(self).__name__]
        if self._auto_class is not None:
            custom_object_save(self, folder, config=config)
        config.files_sha256 = _checked_files(folder)
        config.save_pretrained(folder)
        values = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        values["config_sha256"] = config_digest(values)
        (folder / "config.json").write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    # ----------------------------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *model_args, **kwargs):
        """Load a bundle folder (or hub repository); every file is checked against its checksum first."""
        hub_kwargs = {k: kwargs[k] for k in ("revision", "token", "cache_dir", "local_files_only") if k in kwargs}
        root = Path(os.fspath(pretrained_model_name_or_path)).expanduser()
        if not root.is_dir():
            if reads_as_local_path(os.fspath(pretrained_model_name_or_path)):
                raise FileNotFoundError(f"no bundle folder at {root} (build one with `hf-tokenembed bundle`)")
            from huggingface_hub import snapshot_download

            root = Path(snapshot_download(os.fspath(pretrained_model_name_or_path), **hub_kwargs))
        if not (root / "config.json").is_file():
            raise FileNotFoundError(f"{root} holds no bundle (no config.json)")
        try:
            config = TextReconstructorConfig.from_pretrained(root)
        except (OSError, ValueError) as err:
            raise ValueError(f"{root / 'config.json'} is not a valid bundle config ({err})") from err
        cls._verify(root, config)
        parts = {  # the Selector and Placer are stored at `storage_dtype` and computed in fp32
            name: AutoModel.from_pretrained(
                root / name,
                trust_remote_code=_REMOTE or None,
                use_safetensors=True,
                **({} if name == "embedder" else {"dtype": torch.float32}),
            ).eval()
            for name in PARTS
        }
        from safetensors.torch import load_file

        rows = [json.loads(line) for line in (root / ENTRIES_FILE).read_text(encoding="utf-8").splitlines()]
        keys = load_file(root / KEYS_FILE)
        model = cls(config, **parts, surfaces=[r[0] for r in rows], counts=[r[1] for r in rows],
                    key_codes=keys["codes"], key_scales=keys["scales"])  # fmt: skip
        if config.embedder_fingerprint not in (None, model.embedder.fingerprint()):
            raise ValueError(
                f"{root / 'embedder'} is not the TokenEmbedder the vocabulary keys come from "
                f"(fingerprint {model.embedder.fingerprint()!r}, expected {config.embedder_fingerprint!r})"
            )
        return model

    @staticmethod
    def _verify(root: Path, config: TextReconstructorConfig) -> None:
        """The config's values match their SHA-256, and every file it lists is there and matches its own: a clear
        error, never a wrong answer (an edited decoding setting or fingerprint included)."""
        values = json.loads((root / "config.json").read_text(encoding="utf-8"))
        if "config_sha256" in values and values["config_sha256"] != config_digest(values):
            raise ValueError(
                f"{root / 'config.json'} does not match its checksum (config_sha256): it was edited or damaged "
                "(save the bundle again from its parts, or download it again)"
            )
        if not config.files_sha256:
            raise ValueError(
                f"{root / 'config.json'} lists no file checksums: not a bundle saved by TextReconstructor"
            )
        for name, expected in config.files_sha256.items():
            path = root / name
            if not path.is_file():
                raise FileNotFoundError(f"the bundle {root} is missing {name}")
            if _sha256(path) != expected:
                raise ValueError(
                    f"{path} does not match its checksum in config.json: the bundle is corrupted or truncated "
                    "(download or save it again)"
                )


def reads_as_local_path(name: str) -> bool:
    """Whether `name` can only be a local path: a hub repo id is "name" or "namespace/name"."""
    return os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1
