"""What the `trainers/` entry scripts share: presets (JSON files of argument defaults that explicit flags override),
the CPU thread count and resuming from the last checkpoint."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

from transformers import HfArgumentParser, TrainerState
from transformers.trainer_utils import get_last_checkpoint

logger = logging.getLogger(__name__)

__all__ = ["ensure_data", "load_preset", "model_overrides", "parse_with_preset", "train_or_resume", "use_cpu_cores"]


def load_preset(name: str, configs: Path) -> dict:
    """Argument defaults of preset `name`: `configs/<name>.json` or a JSON path."""
    path = Path(configs) / f"{name}.json"
    if not path.is_file():
        path = Path(name)
    if not path.is_file():
        known = sorted(p.stem for p in Path(configs).glob("*.json"))
        raise ValueError(f"`--preset` {name!r} is neither one of {known} nor a JSON file")
    return json.loads(path.read_text())


def parse_with_preset(arguments_class, configs: Path, default: str, argv: list[str] | None = None, description=None):
    """Parse `argv` into `arguments_class` over the defaults of `--preset` (default: `default`)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default=default)
    known, _ = pre.parse_known_args(argv)
    parser = HfArgumentParser(arguments_class, description=description)
    parser.add_argument("--preset", default=default, help=f"{configs.name}/<name>.json or a JSON path")
    parser.set_defaults(**load_preset(known.preset, configs))
    args, _preset = parser.parse_args_into_dataclasses(argv)
    return args


def use_cpu_cores(args) -> None:
    """On CPU, give torch `args.cpu_threads` threads (default: the cores divided among the processes):
    `accelerate launch` without `--cpu` pins OMP_NUM_THREADS=1, which halves the speed on 2 cores."""
    import torch

    if args.device.type == "cpu":
        torch.set_num_threads(args.cpu_threads or max(1, (os.cpu_count() or 1) // args.world_size))


def model_overrides(args) -> dict:
    """The model-config values a controller run sets (`hidden_size`, `num_layers`, `dropout`; None keeps the
    config's default)."""
    return {
        name: getattr(args, name)
        for name in ("hidden_size", "num_layers", "dropout")
        if getattr(args, name) is not None
    }


def ensure_data(args) -> None:
    """Build `args.data_dir` from `args.corpus` if it holds no data folder yet; an existing one is used as it is
    (never rebuilt from another corpus behind the user's back)."""
    from hf_tokenembed.data import build_data

    with args.main_process_first(desc="data"):
        if not (Path(args.data_dir) / "manifest.json").is_file():
            build_data(args.corpus, args.data_dir, progress=args.should_log)


def train_or_resume(trainer) -> None:
    """`trainer.train()`, resumed from the last checkpoint in its output folder. A run whose last checkpoint has
    reached `max_steps` is finished: its weights and state are loaded and no step is taken (the Trainer would take
    one more step past `max_steps`)."""
    folder = trainer.args.output_dir
    last = get_last_checkpoint(folder) if os.path.isdir(folder) else None
    if last is None:
        trainer.train()
        return
    state = TrainerState.load_from_json(os.path.join(last, "trainer_state.json"))
    if 0 < trainer.args.max_steps <= state.global_step:
        logger.info("%s is finished (step %d): not training again", last, state.global_step)
        trainer._load_from_checkpoint(last)
        trainer.state = state
        return
    logger.info("Resuming from %s (step %d)", last, state.global_step)
    trainer.train(resume_from_checkpoint=last)
