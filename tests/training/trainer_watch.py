"""Callbacks that see what a training script's Trainer does: the steps it takes, and a kill at a given step."""

from __future__ import annotations

from pathlib import Path

from transformers import TrainerCallback


class StepLog(TrainerCallback):
    """Every optimizer step taken, as `(output folder's name, global step at the step's end)`."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int]] = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append((Path(args.output_dir).name, state.global_step))


class Kill(TrainerCallback):
    """Raise `KeyboardInterrupt` at the end of step `step` of the run writing to a folder named `folder` (any run
    when None), once: the rerun that follows goes through."""

    def __init__(self, step: int, folder: str | None = None) -> None:
        self.step, self.folder, self.fired = step, folder, False

    def on_step_end(self, args, state, control, **kwargs):
        here = self.folder is None or Path(args.output_dir).name == self.folder
        if here and state.global_step == self.step and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


def watch(monkeypatch, trainer_class, *callbacks: TrainerCallback) -> None:
    """Every instance of `trainer_class` built during the test gets `callbacks` (the scripts build their trainers
    inside `main`)."""
    original = trainer_class.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        for callback in callbacks:
            self.add_callback(callback)

    monkeypatch.setattr(trainer_class, "__init__", init)
