"""Results written into the page's Markdown: names escaped as text, a card per model that could not
answer."""

from __future__ import annotations

from typing import Any

from plugin import words

__all__ = ["md", "failure_cards"]


def md(text: Any) -> str:
    """Text shown in Markdown as it is, escaped as the reports' Markdown is (`words.markdown_text`):
    a name such as `<img src=x>` stays text, without relying on Gradio's sanitiser."""
    return words.markdown_text(text)


def failure_cards(entries: list, lang: str) -> list[str]:
    """One Markdown card (a quote) per model that could not answer: its name, "no answer", and why,
    in `lang` (an answer's entries are skipped)."""
    said = words.text("report.no_answer", lang)
    cards = []
    for entry in entries:
        if "error" not in entry:
            continue
        text = md(words.failure_text(entry["error"], lang))
        url = str((entry["error"].get("params") or {}).get("url") or "")
        if url.startswith("https://"):  # a link that ends where the address ends, not at the next Korean particle
            text = text.replace(md(url), f"<{url}>")
        cards.append(f"> ⚠️ **{md(entry['model'])} · {said}**  \n> {text}\n")
    return cards
