"""Do the models agree? On two levels: the dog/cat verdict and the top-1 class.

`agreement` makes the record a classification result carries. Its `summary`, the English sentence
for agents that the caller adds once the record is whole, is `plugin.words.results.sentence`'s,
which says the same in any language, with which models got the right answer when it is known
("Both say dog, but VGG16 says English foxhound and ResNet50 says beagle").
"""

from __future__ import annotations

from plugin.engine.results import Agreement, ModelOutcome

__all__ = ["agreement"]


def agreement(results: list[ModelOutcome]) -> Agreement:
    """Whether the models agree, per level.

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
