"""Text reconstruction quality: token F1, BLEU, exact match and ROUGE-L of rebuilt texts, as an `evaluate.Metric`.

Load it offline by local path: ``evaluate.load(hf_tokenembed.evaluation.metrics.metric_path("text_reconstruction"))``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import datasets
import evaluate

__all__ = ["TextReconstruction", "compute_text_reconstruction", "token_f1"]

_DESCRIPTION = """
How close rebuilt texts are to the texts they were rebuilt from, as in the embedding-inversion literature
(vec2text, Morris et al. 2023): token F1 is the F1 of the sets of lowercased words of prediction and reference,
averaged over pairs; BLEU is sacrebleu's corpus BLEU (13a tokenisation, case-sensitive); exact match is the share of
predictions equal to their reference; ROUGE-L is the mean F-measure of the longest common subsequence of words
(the rouge_score package).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): rebuilt texts.
    references (`list` of `str`): the original texts.
Returns:
    `token_f1`, `exact_match`, `rouge_l` (in [0, 1]) and `bleu` (0-100).
Examples:
    >>> metric = evaluate.load("hf_tokenembed/evaluation/metrics/text_reconstruction")
    >>> metric.compute(predictions=["the cat sat"], references=["the cat sat"])["exact_match"]
    1.0
"""

_CITATION = """
@inproceedings{morris2023text,
  title={Text Embeddings Reveal (Almost) As Much As Text},
  author={Morris, John X. and Kuleshov, Volodymyr and Shmatikov, Vitaly and Rush, Alexander M.},
  booktitle={Proceedings of the 2023 Conference on Empirical Methods in Natural Language Processing},
  year={2023}
}
@inproceedings{post-2018-call,
  title={A Call for Clarity in Reporting {BLEU} Scores},
  author={Post, Matt},
  booktitle={Proceedings of the Third Conference on Machine Translation},
  year={2018}
}
"""

_WORD = re.compile(r"\w+")


def token_f1(prediction: str, reference: str) -> float:
    """F1 of the sets of lowercased words (1.0 when both are empty)."""
    predicted, gold = set(_WORD.findall(prediction.lower())), set(_WORD.findall(reference.lower()))
    if not predicted or not gold:
        return float(predicted == gold)
    overlap = len(predicted & gold)
    return 0.0 if overlap == 0 else 2 * overlap / (len(predicted) + len(gold))


def compute_text_reconstruction(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """The metric's maths as a plain function."""
    import sacrebleu
    from rouge_score import rouge_scorer

    if len(predictions) != len(references):
        raise ValueError(f"`predictions` has {len(predictions)} texts for {len(references)} `references`")
    if not predictions:
        raise ValueError("`predictions` is empty")
    for name, texts in (("predictions", predictions), ("references", references)):
        if any(not isinstance(t, str) for t in texts):
            raise TypeError(f"`{name}` must be a list of strings")
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    n = len(predictions)
    return {
        "token_f1": sum(token_f1(p, r) for p, r in zip(predictions, references)) / n,
        "bleu": sacrebleu.corpus_bleu(list(predictions), [list(references)]).score,
        "exact_match": sum(p == r for p, r in zip(predictions, references)) / n,
        "rouge_l": sum(scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references)) / n,
    }


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TextReconstruction(evaluate.Metric):
    """Token F1, BLEU, exact match and ROUGE-L of rebuilt texts."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references) -> dict[str, float]:
        return compute_text_reconstruction(predictions, references)
