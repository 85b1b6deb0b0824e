"""Model cards of trained TokenEmbedders, Selectors, Placers and reconstruction bundles, rendered from the packaged
Jinja templates."""

from __future__ import annotations

import os
from importlib import resources

import jinja2

__all__ = ["render_bundle_card", "render_controller_card", "render_model_card"]


def render_model_card(model, args, losses: dict, metrics: dict | None = None, baselines: dict | None = None) -> str:
    """Markdown card: usage, training recipe and its fixes, losses, and held-out metrics beside any `baselines`."""
    template = resources.files("hf_tokenembed.training").joinpath("model_card_template.md").read_text()
    config = model.config
    head = f"{config.head_dims[0]}→{config.head_dims[1]} MLP" if config.head_dims else "no"
    if config.head_dims is None:
        head = f"{model.backbone.config.hidden_size}→{model.token_dim} MLP" if model.head is not None else "no"
    metrics_table = _metrics_table({"this model": metrics or {}, **(baselines or {})})
    citations = list(dict.fromkeys(loss.citation.strip() for loss in losses.values() if getattr(loss, "citation", "")))
    return (
        _environment()
        .from_string(template)
        .render(
            name=os.path.basename(os.path.normpath(args.output_dir)),
            backbone=config.backbone,
            config=config,
            head=head,
            args=args,
            losses_list="\n".join(
                f"- `{name}`: `{type(loss).__name__}` {loss.get_config_dict()}" for name, loss in losses.items()
            ),
            metrics_table=metrics_table,
            citations=citations,
        )
    )


def render_controller_card(model, args, metrics: dict[str, float]) -> str:
    """Markdown card of a trained Selector or Placer: what it does, its training data and its held-out metrics."""
    template = resources.files("hf_tokenembed.training").joinpath("controller_card_template.md").read_text()
    return (
        _environment()
        .from_string(template)
        .render(
            name=os.path.basename(os.path.normpath(args.output_dir)),
            kind=type(model).__name__,
            num_entries=getattr(model.config, "num_entries", "the vocabulary's"),
            args=args,
            metrics_table=_metrics_table({"this model": metrics}),
        )
    )


def render_bundle_card(name: str, bundle, table: str, command: str, sentences: int, seed: int) -> str:
    """Markdown card of a `TextReconstructor` bundle with its reconstruction `table` and the `command` behind it."""
    template = resources.files("hf_tokenembed.training").joinpath("bundle_card_template.md").read_text()
    return (
        _environment()
        .from_string(template)
        .render(
            name=name,
            config=bundle.config,
            num_entries=f"{len(bundle.surfaces):,}",
            sentence_dim=bundle.embedder.sentence_dim,
            backbone=bundle.embedder.config.backbone,
            table=table,
            command=command,
            sentences=sentences,
            seed=seed,
        )
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(trim_blocks=True, lstrip_blocks=True)


def _metrics_table(table: dict[str, dict[str, float]]) -> str:
    """A Markdown table, one row per metric and one column per model; empty when there is no metric."""
    names = list(dict.fromkeys(name for column in table.values() for name in column))
    if not names:
        return ""
    rows = [
        f"| {name} | "
        + " | ".join(f"{column[name]:.4f}" if name in column else "" for column in table.values())
        + " |"
        for name in names
    ]
    return "\n".join(["| metric | " + " | ".join(table) + " |", "|---|" + "---:|" * len(table), *rows])
