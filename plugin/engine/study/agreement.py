"""Do the models agree? On two levels: the dog/cat verdict and the top-1 class, said in one
sentence a student reads first ("Both say dog, but VGG16 says English foxhound and ResNet50 says
beagle"), and, when the right answer is known, which models got it.

`agreement` makes the record a classification result carries (with the English sentence for
agents); `sentence` says the same in any language from the result, with the catalogue's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin import words
from plugin.engine.results import Agreement, ClassificationResult, ModelOutcome, answers

__all__ = ["agreement", "sentence"]


def agreement(results: list[ModelOutcome]) -> Agreement:
    """Whether the models agree, per level, and the sentence that says it.

    Returns:
        `{"agree", "basis", "verdict_agree", "top1_agree", "top1", "verdicts"}`: `agree` is the
        verdict agreement where every model has a verdict, else top-1's (`basis` says which);
        None with one model. `summary` is added by the caller, once the record is whole.
    """
    top1 = {result["model"]: result["predictions"][0]["label"] for result in results}
    verdicts = {result["model"]: verdict["label"] for result in results if (verdict := result["verdict"])}
    if len(results) < 2:
        return {"agree": None, "basis": "single model", "verdict_agree": None, "top1_agree": None, "top1": top1,
                "verdicts": verdicts}
    top1_agree = len(set(top1.values())) == 1
    verdict_agree = len(set(verdicts.values())) == 1 if len(verdicts) == len(results) else None
    agree, basis = (verdict_agree, "verdict") if verdict_agree is not None else (top1_agree, "top1")
    return {"agree": agree, "basis": basis, "verdict_agree": verdict_agree, "top1_agree": top1_agree, "top1": top1,
            "verdicts": verdicts}


def _name(prediction: Mapping[str, Any], lang: str) -> str:
    if lang == "ko" and prediction.get("label_ko"):
        return prediction["label_ko"]
    return prediction["label"].replace("_", " ")


def _join(parts: list[str], t: dict) -> str:
    return parts[0] if len(parts) == 1 else t["list_separator"].join(parts[:-1]) + t["list_last"] + parts[-1]


def sentence(record: ClassificationResult | Mapping[str, Any], lang: str) -> str:
    """The agreement of a classification result (one image) in one or two sentences, in `lang`; a
    comparison's rows do too, as `{"results": rows, "expected": ...}`. Models that could not answer
    are left out (their error entries say why)."""
    t = words.section("agreement", lang)
    results = answers(record["results"])
    tops = {r["model"]: _name(r["predictions"][0], lang) for r in results}
    verdicts = {r["model"]: t[verdict["label"]] for r in results if (verdict := r["verdict"])}
    has_verdicts = len(verdicts) == len(results)
    if len(results) == 1:
        model = results[0]["model"]
        text = (t["single_verdict"].format(model=model, verdict=verdicts[model], label=tops[model]) if has_verdicts
                else t["single"].format(model=model, label=tops[model]))
    else:
        everyone = t["both"] if len(results) == 2 else t["all"].format(count=len(results), count_word=_count(len(results), t))
        same_top = len(set(tops.values())) == 1
        pairs = [t["pair"].format(model=model, label=label) for model, label in tops.items()]
        if has_verdicts and len(set(verdicts.values())) == 1:
            verdict = next(iter(verdicts.values()))
            text = (t["same_both"].format(everyone=everyone, verdict=verdict, label=next(iter(tops.values()))) if same_top
                    else t["same_verdict"].format(everyone=everyone, verdict=verdict, pairs=_join(pairs, t)))
        elif has_verdicts:
            split = [t["pair_verdict"].format(model=model, verdict=verdicts[model], label=tops[model]) for model in tops]
            text = t["different_verdicts"].format(pairs=_join(split, t))
        else:
            text = (t["same_top1"].format(everyone=everyone, label=next(iter(tops.values()))) if same_top
                    else t["different_top1"].format(pairs=_join(pairs, t)))
    expected = record.get("expected")
    if expected:
        by = "top1" if expected.get("label") else "verdict"  # a class asked: its top-1; "dog" or "cat": the verdict shown
        right = [r["model"] for r in results if r.get("correct", {}).get(by)]
        answer = (_name(expected, lang) if expected.get("label") else t[expected["group"]])
        text += " " + (t["right_answer"].format(answer=answer, models=_join(right, t)) if right
                       else t["nobody_right"].format(answer=answer))
    return text


def _count(count: int, t: dict) -> str:
    words_for = t["count_words"]
    return words_for[count] if count < len(words_for) else str(count)
