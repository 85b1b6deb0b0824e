"""Controller, first model: the Selector (which entry to write next), trained by imitation on CPU.

    accelerate launch trainers/train_selector.py                                   # default preset, offline
    accelerate launch trainers/train_selector.py --embedder runs/token-head --output_dir runs/selector
    accelerate launch --multi_gpu --num_processes 2 trainers/train_selector.py --preset selector-tiny --use_cpu true  # 2 CPU processes

A preset (`trainers/configs/<name>.json`, or a path) sets the defaults; any `--flag` overrides it. The run builds
(or reuses) the reconstruction vocabulary and the sentence-vector caches next to the embedder, resumes from the
last checkpoint in `--output_dir`, saves the Selector with its model card and writes `eval_results.json`.
"""

from __future__ import annotations

import logging

from controller_setup import CONFIGS, finish, prepare
from transformers.trainer_utils import set_seed

from hf_tokenembed import Selector, SelectorConfig
from hf_tokenembed.training import ControllerTrainingArguments, SelectorTrainer, scripts

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> dict:
    args = scripts.parse_with_preset(ControllerTrainingArguments, CONFIGS, "selector", argv, description=__doc__)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    scripts.use_cpu_cores(args)
    embedder, vocabulary, train, dev = prepare(args)
    overrides = scripts.model_overrides(args)
    set_seed(args.seed)  # the model's initialisation (the Trainer seeds only after it is built)
    config = SelectorConfig(
        sentence_dim=embedder.sentence_dim, token_dim=vocabulary.token_dim, num_entries=len(vocabulary), **overrides
    )
    selector = Selector(config)
    selector.set_entry_keys(vocabulary.keys)
    trainer = SelectorTrainer(selector, args, train, eval_data=dev)
    scripts.train_or_resume(trainer)
    return finish(trainer, args)


if __name__ == "__main__":
    main()
