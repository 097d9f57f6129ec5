"""How a result is said, in Korean or English: the names of classes, the dog/cat verdict's basis and
rule, the models' agreement, why another model answered, and where a photo came from.

Each function takes a result (or a part of one) as the engine returns it and the reader's language,
and finds its words in the catalogue. The engine calls them for the English sentences results carry
(`verdict["basis"]`, `agreement["summary"]`, `fallback["note"]`); pages and doors for the reader's
language. This module reads results as mappings and imports nothing of the engine; the verdict's
numbers come from `plugin.limits`, where the engine reads them too.

    >>> display_name({"label": "English_foxhound", "label_ko": "잉글리시 폭스하운드"}, "ko")
    '잉글리시 폭스하운드 (English foxhound)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugin.limits import CAT_INDICES, DOG_INDICES, PLAUSIBLE_GROUP, WILD_CAT_INDICES
from plugin.words import failure_text, percent, precision_text, run_by, section, text

__all__ = ["display_name", "class_name", "verdict_basis", "verdict_rule", "sentence", "fallback_note", "source_text",
           "classification_view", "gradcam_caption", "region_text", "method_title", "method_description",
           "explanation_how", "metrics_sentence", "sanity_sentence", "metrics_definitions"]


def display_name(prediction: Mapping[str, Any], lang: str) -> str:
    """A class as people read it: in Korean "비글 (beagle)", in English "beagle"; never underscores."""
    english = prediction["label"].replace("_", " ")
    korean = prediction.get("label_ko")
    if lang == "ko" and korean:
        return f"{korean} ({english})"
    return english


def class_name(prediction: Mapping[str, Any], lang: str) -> str:
    """A class in one name, where the other is beside it or would be too long: in Korean "비글",
    in English "beagle" (a chart's bar, a list in a sentence)."""
    if lang == "ko" and prediction.get("label_ko"):
        return prediction["label_ko"]
    return prediction["label"].replace("_", " ")


def _object_particle(word: str) -> str:
    """을 after a Korean word ending in a consonant, 를 after a vowel (을 for anything else)."""
    last = word.rstrip()[-1:] if word else ""
    if "가" <= last <= "힣":
        return "을" if (ord(last) - ord("가")) % 28 else "를"
    return "을"


def gradcam_caption(explained: Mapping[str, Any], lang: str) -> str:
    """A heat map's caption in `lang`: the class it explains and whether it is the model's own
    answer ("EfficientNetLite1의 답 블루틱 (bluetick) (41.0%) · Grad-CAM, 층 top_activation"), the
    right answer the model was asked about ("정답 비글 (beagle)을 찾은 곳 (16.3%) · 모델의 답은
    블루틱 (bluetick)"), a whole group ("개 전체(118개 클래스의 합, 0.7%)를 찾은 곳 · 모델의 답은 ..."),
    or, for a method that ignores the class, that it does; then the method and its layer."""
    explained_class = explained["class"]
    answer = explained.get("answer") or explained_class
    target = explained.get("target", "answer")
    how = explanation_how(explained, lang)
    if not explained.get("class_specific", True):
        return text("report.gradcam_caption_agnostic", lang, model=explained["model"], answer=display_name(answer, lang), how=how)
    if explained_class.get("group"):
        return text("report.gradcam_caption_group", lang, model=explained["model"],
                    group=text(f"explain.groups.{explained_class['group']}", lang), classes=explained_class.get("classes"),
                    probability=percent(explained_class["probability"]), answer=display_name(answer, lang), how=how)
    if target == "answer" or (target == "class" and answer["index"] == explained_class["index"]):
        target = "answer"
    label = display_name(explained_class, lang)
    if target == "answer":
        return text("report.gradcam_caption_answer", lang, model=explained["model"], label=label,
                    probability=percent(explained_class["probability"]), how=how)
    particle = _object_particle(explained_class.get("label_ko") or "") if lang == "ko" else ""
    return text(f"report.gradcam_caption_{target}", lang, model=explained["model"], label_object=label + particle,
                probability=percent(explained_class["probability"]), answer=display_name(answer, lang), how=how)


def method_title(method: str, lang: str) -> str:
    """An explanation method's name as a page in `lang` says it ("가림 실험" for occlusion)."""
    return section("explain", lang)["titles"].get(method, method)


def method_description(method: str, lang: str) -> str:
    """What an explanation method does, in one or two sentences in `lang` ("" for one without words)."""
    return section("explain", lang)["methods"].get(method, "")


def explanation_how(explained: Mapping[str, Any], lang: str) -> str:
    """How a map was made: the method and its layer ("Grad-CAM, 층 top_activation"), that it hid
    the photo's pixels (occlusion), or the method alone (one of no layer)."""
    name = explained.get("method", "gradcam")
    titles = section("explain", lang)["titles"]
    method = titles.get(name) or explained.get("method_title") or name
    if explained.get("layer"):
        return text("report.caption_how_layer", lang, method=method, layer=explained["layer"])
    return text("report.caption_how_pixels", lang, method=method) if name == "occlusion" else method


def metrics_sentence(metrics: Mapping[str, Any], lang: str) -> str:
    """What a map's numbers say against its baselines, in one sentence ("이 지도는 무작위보다 0.18
    낫고, 가운데를 본 지도보다 0.15 낫습니다.")."""
    random_lead, centre_lead = metrics["better_than_random"], metrics["better_than_centre"]
    values = {"random": _lead(random_lead), "centre": _lead(centre_lead), "random_abs": _lead(abs(random_lead)),
              "centre_abs": _lead(abs(centre_lead))}
    key = "worse" if random_lead < 0 else "not_centre" if centre_lead < 0 else "better"
    return text(f"explain.{key}", lang, **values)


def sanity_sentence(sanity: Mapping[str, Any], lang: str) -> str:
    """The sanity check's verdict in one sentence: the map changed with the model, or it is flagged."""
    last = sanity["steps"][-1]
    return text("explain.sanity_flagged" if sanity["flagged"] else "explain.sanity_passed", lang,
                layers=len(last["randomised"]), correlation=f"{last['rank_correlation']:.2f}",
                threshold=f"{sanity['threshold']:.2f}")


def metrics_definitions(metrics: Mapping[str, Any], lang: str) -> str:
    """The metrics' definitions and sources, as a page cites them."""
    return text("explain.definitions", lang, steps=metrics["steps"],
                percentiles=", ".join(str(value) for value in metrics["road"]["percentiles"]))


def _lead(value: float) -> str:
    return f"{value:.2f}"


def region_text(region: Mapping[str, Any], lang: str) -> str:
    """What part of the photo a model saw, in one sentence: the centre crop and the share left out
    (with a warning where the photo's shape makes the crop leave out more than `CROP_WARNING_LEFT_OUT`
    of its long side), or the whole photo squashed."""
    if region["resize"] != "crop":
        return text("report.region_whole", lang)
    key = "report.region_crop_warning" if region.get("warning") else "report.region_crop"
    return text(key, lang, fraction=percent(region["crop_fraction"]), left_out=percent(region["left_out"], digits=0))


def verdict_rule(lang: str = "en") -> str:
    """The verdict's rule in one sentence, in `lang`, with the numbers it is decided by (README says the same)."""
    def span(indices: range) -> str:
        return f"{indices.start}–{indices.stop - 1}"

    return text("verdict_basis.rule", lang, dogs=span(DOG_INDICES), cats=span(range(CAT_INDICES.start, WILD_CAT_INDICES.start)),
                wild=span(WILD_CAT_INDICES), share=percent(PLAUSIBLE_GROUP, digits=0))


def verdict_basis(verdict: Mapping[str, Any], lang: str = "en") -> str:
    """Why the verdict (a result's `verdict`) is what it is, in one sentence in `lang` (the
    result's own `basis` is English)."""
    t = section("verdict_basis", lang)
    scores = verdict["scores"]
    other = display_name({"label": verdict["other_class"]["label"], "label_ko": verdict["other_class"]["label_ko"]}, lang)
    score = {group: percent(scores[group]) for group in ("dog", "cat", "other")}
    share = percent(PLAUSIBLE_GROUP, digits=0)
    chosen = verdict["label"]
    if chosen == "other" and max(scores["dog"], scores["cat"]) > scores["other"]:  # a group too small to count
        return t["too_small"].format(dog=score["dog"], cat=score["cat"], share=share, label=other, score=score["other"])
    parts = {group: t[group].format(score=score[group], label=other) for group in ("dog", "cat", "other")}
    rival = "cat" if chosen == "dog" else "dog"
    if chosen != "other" and scores[rival] > scores[chosen]:
        # the larger group does not count (not the top-1 class, under the share): the top-1's group wins
        said = t["over_noise"].format(chosen=parts[chosen], rival=parts[rival], share=share, other=parts["other"])
    else:
        said = f"{parts[chosen]} > " + t["join"].join(parts[group] for group in ("dog", "cat", "other") if group != chosen)
    if chosen == "cat" and verdict["top1_group"] == "wild cat":
        said += t["wild"]
    return said


def _join(parts: list[str], t: Mapping[str, Any]) -> str:
    return parts[0] if len(parts) == 1 else t["list_separator"].join(parts[:-1]) + t["list_last"] + parts[-1]


def _count(count: int, t: Mapping[str, Any]) -> str:
    words_for = t["count_words"]
    return words_for[count] if count < len(words_for) else str(count)


def sentence(record: Mapping[str, Any], lang: str) -> str:
    """The agreement of a classification result (one image) in one or two sentences, in `lang`; a
    comparison's rows do too, as `{"results": rows, "expected": ...}`. Models that could not answer
    are left out (their error entries say why)."""
    t = section("agreement", lang)
    results = [entry for entry in record["results"] if "error" not in entry]  # the answers, as `results.answers` keeps them
    tops = {r["model"]: class_name(r["predictions"][0], lang) for r in results}
    verdicts = {r["model"]: t[verdict["label"]] for r in results if (verdict := r["verdict"])}
    has_verdicts = len(verdicts) == len(results)
    if len(results) == 1:
        model = results[0]["model"]
        said = (t["single_verdict"].format(model=model, verdict=verdicts[model], label=tops[model]) if has_verdicts
                else t["single"].format(model=model, label=tops[model]))
    else:
        everyone = t["both"] if len(results) == 2 else t["all"].format(count=len(results), count_word=_count(len(results), t))
        same_top = len(set(tops.values())) == 1
        pairs = [t["pair"].format(model=model, label=label) for model, label in tops.items()]
        if has_verdicts and len(set(verdicts.values())) == 1:
            verdict = next(iter(verdicts.values()))
            said = (t["same_both"].format(everyone=everyone, verdict=verdict, label=next(iter(tops.values()))) if same_top
                    else t["same_verdict"].format(everyone=everyone, verdict=verdict, pairs=_join(pairs, t)))
        elif has_verdicts:
            split = [t["pair_verdict"].format(model=model, verdict=verdicts[model], label=tops[model]) for model in tops]
            said = t["different_verdicts"].format(pairs=_join(split, t))
        else:
            said = (t["same_top1"].format(everyone=everyone, label=next(iter(tops.values()))) if same_top
                    else t["different_top1"].format(pairs=_join(pairs, t)))
    expected = record.get("expected")
    if expected:
        by = "top1" if expected.get("label") else "verdict"  # a class asked: its top-1; "dog" or "cat": the verdict shown
        right = [r["model"] for r in results if r.get("correct", {}).get(by)]
        answer = (class_name(expected, lang) if expected.get("label") else t[expected["group"]])
        said += " " + (t["right_answer"].format(answer=answer, models=_join(right, t)) if right
                       else t["nobody_right"].format(answer=answer))
    return said


def fallback_note(fallback: Mapping[str, Any], lang: str) -> str:
    """Why another model answered (a result's `fallback`), in `lang`."""
    sizes = ", ".join(f"{name} {size:g} MiB" for name, size in fallback["download_mb"].items())
    return text("results.fallback_note", lang, fallback=fallback["model"], pair=text("results.and", lang).join(fallback["instead_of"]),
                missing=sizes)


def source_text(image: Mapping[str, Any], lang: str) -> str:
    """Where an image came from (its result record), in `lang`: "파일 cat.jpg", "URL https://..."."""
    if not image.get("kind"):
        return image["source"]
    return text(f"image_sources.{image['kind']}", lang, name=image.get("name") or "")


def classification_view(record: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """How one photo's classification reads, once for every door that shows it (the command line,
    the Classify tab, the report): what each door then lays out in its own form.

    Args:
        record: a `classify_image` result (or one image's record of `classify_images`).
        lang: the reader's language.

    Returns:
        `{"sentence", "source", "fallback", "verdict_rule", "cards", "region", "region_warning"}`:
        the agreement sentence, where the photo came from, why another model answered (or None),
        the verdict's rule where a model gave a verdict (or None), a card per model in the order
        asked: `{"model", "failure"}` for a model that could not answer (why, in words), else
        `{"model", "failure": None, "result", "untrained", "precision", "run_by", "predictions",
        "verdict", "basis", "region"}`, the predictions with their `name` as people read it and the
        verdict's label in words; and the part of the photo the (first) model saw, in words, with
        whether the crop left out more than a third of its long side.
    """
    report = section("report", lang)
    cards: list[dict[str, Any]] = []
    for entry in record["results"]:
        if "error" in entry:
            cards.append({"model": entry["model"], "failure": failure_text(entry["error"], lang), "result": entry})
            continue
        verdict = entry.get("verdict")
        cards.append({"model": entry["model"], "failure": None, "result": entry, "untrained": bool(entry.get("untrained")),
                      "precision": precision_text(entry, lang), "run_by": run_by(entry, lang),
                      "predictions": [dict(prediction, name=display_name(prediction, lang)) for prediction in entry["predictions"]],
                      "verdict": report[verdict["label"]] if verdict else None,
                      "basis": verdict_basis(verdict, lang) if verdict else None,
                      "region": region_text(entry["region"], lang) if entry.get("region") else None})
    fallback = record.get("fallback")
    seen = next((card["result"]["region"] for card in cards if card["failure"] is None and card["result"].get("region")), None)
    return {"sentence": sentence(record, lang), "source": source_text(record["image"], lang),
            "fallback": fallback_note(fallback, lang) if fallback else None,
            "verdict_rule": verdict_rule(lang) if any(card.get("verdict") for card in cards) else None, "cards": cards,
            "region": region_text(seen, lang) if seen else None, "region_warning": bool(seen and seen.get("warning"))}
