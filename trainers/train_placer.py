"""Controller, second model: the Placer (which candidate goes where, or STOP), trained by imitation on CPU.

    accelerate launch trainers/train_placer.py --selector runs/selector              # default preset, offline
    accelerate launch --multi_gpu --num_processes 2 trainers/train_placer.py --preset placer-tiny --selector ... --use_cpu true  # 2 CPU processes

Candidates are the trained Selector's top `--top_k` entries. The run first trains on oracle states; with
`--rollin_sentences N` it then decodes N training sentences greedily with the Selector and this Placer, adds every
state visited on the way (DAgger), and trains on both for as many steps again. It resumes from the last
checkpoint in `--output_dir` (a finished first phase takes no step again), saves the Placer with its model card and
writes `eval_results.json`.
"""

from __future__ import annotations

import copy
import logging
import os

import numpy as np
from controller_setup import CONFIGS, finish, prepare
from transformers import AutoModel
from transformers.trainer_utils import set_seed

from hf_tokenembed import Placer, PlacerConfig
from hf_tokenembed.controller import Reconstructor, rollin_states
from hf_tokenembed.training import ControllerTrainingArguments, PlacerTrainer, scripts

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> dict:
    args = scripts.parse_with_preset(ControllerTrainingArguments, CONFIGS, "placer", argv, description=__doc__)
    logging.basicConfig(level=logging.INFO if args.should_log else logging.WARNING)
    scripts.use_cpu_cores(args)
    if not args.selector:
        raise ValueError("`--selector` (a trained Selector folder) is required")
    embedder, vocabulary, train, dev = prepare(args)
    selector = AutoModel.from_pretrained(args.selector).eval()
    overrides = scripts.model_overrides(args)
    set_seed(args.seed)  # the model's initialisation (the Trainer seeds only after it is built)
    placer = Placer(PlacerConfig(sentence_dim=embedder.sentence_dim, token_dim=vocabulary.token_dim, **overrides))
    oracle_dir = os.path.join(args.output_dir, "oracle") if args.rollin_sentences else args.output_dir
    oracle_args = copy.copy(args)
    oracle_args.output_dir = oracle_dir
    trainer = PlacerTrainer(placer, oracle_args, train, selector, eval_data=dev)
    scripts.train_or_resume(trainer)  # a finished first phase takes no step again: its last checkpoint is loaded
    if not args.rollin_sentences:
        return finish(trainer, args)
    trainer.save_model()
    reconstructor = Reconstructor(embedder, selector, placer.eval(), vocabulary)
    rng = np.random.default_rng(args.seed)
    which = rng.choice(len(train.texts), min(args.rollin_sentences, len(train.texts)), replace=False)
    train.add_states(*rollin_states(reconstructor, train.states.sentences, train.targets, which, top_k=args.top_k))
    trainer = PlacerTrainer(placer.train(), args, train, selector, eval_data=dev)
    scripts.train_or_resume(trainer)
    return finish(trainer, args)


if __name__ == "__main__":
    main()
