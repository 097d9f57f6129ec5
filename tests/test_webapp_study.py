"""The study tabs in a real browser, on their own app (a second module, so the suite's two
processes share the browser work): where each model looked with its captions whole and the
preprocessing experiment's two regions (Classify), and every view of the Inside tab, in both
languages, at 1280 and 400 px."""

from pathlib import Path

import pytest

from plugin.config import EXAMPLES_DIR
from tests.conftest import WEBAPP_ARTIFACTS as ARTIFACTS
from tests.test_webapp import pick_models

NOTHING_CUT = """(selector) => [...document.querySelectorAll(selector)].filter(e => e.offsetParent !== null).map(e => {
    const box = e.getBoundingClientRect();
    return {text: e.innerText, cut: e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1,
            outside: box.right > window.innerWidth + 1 || box.left < -1};
})"""
"""Each visible element's text, and whether it is cut (its content overflows it) or reaches outside the window."""


LITE = ["EfficientNetLite0", "EfficientNetLite1", "EfficientNetLite2"]


def test_where_it_looked_names_the_class_explained_and_the_experiment_shows_both_regions(page):
    """Run once, read at 1280 px and again at 400 px (a phone): the captions and pictures whole."""
    pick_models(page, LITE)
    page.locator("#classify-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "dog_bicycle.jpg"))
    page.locator("#classify-expected textarea, #classify-expected input").first.fill("비글")
    page.locator("#classify-explain input[type=checkbox]").check()
    page.locator("#classify-button").click()
    page.wait_for_function("document.querySelectorAll('#classify-cams img').length === 6", timeout=240_000)
    for picture in page.locator("#classify-cams img").all():  # lazily loaded: as a reader scrolls to them
        picture.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('#classify-cams img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=60_000)
    summary = page.locator("#classify-summary").inner_text()
    assert "정답: 비글" in summary and "알래스칸 말라뮤트 (malamute)" in summary and "_" not in summary
    assert "모델이 본 곳: 짧은 변의 87.5%만큼 가운데를 잘라 낸 부분" in summary
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 1000})
        for picture in page.locator("#classify-cams img").all():
            picture.scroll_into_view_if_needed()
        captions = page.evaluate(NOTHING_CUT, "#classify-cams .caption-label")
        assert len(captions) == 6 and not any(c["cut"] or c["outside"] for c in captions), (width, captions)
        for name in LITE:  # each model's own answer, and where it found the right answer it missed, side by side
            assert sum(c["text"].startswith(f"{name}의 답 알래스칸 말라뮤트 (malamute)") for c in captions) == 1, captions
            assert sum(c["text"].startswith(f"{name}: 정답 비글 (beagle)을 찾은 곳") for c in captions) == 1, captions
        pictures = page.evaluate(NOTHING_CUT, "#classify-cams img")
        assert len(pictures) == 6 and not any(p["outside"] for p in pictures), (width, pictures)  # the third model's whole
        page.screenshot(path=str(ARTIFACTS / f"cams-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})

    page.get_by_text("전처리 실험", exact=True).first.click()
    page.locator("#study-button").click()
    page.wait_for_function("document.querySelector('#study-text') && document.querySelector('#study-text').innerText.includes('학습 때 방식')",
                           timeout=120_000)
    study = page.locator("#study-text").inner_text()
    assert "실험한 모델: EfficientNetLite0" in study and "lite (학습 때 방식)" in study
    assert "(x − 127) / 128" in study and "x / 127.5 − 1" in study and "BGR" in study  # each mode's formula and pixel
    assert "사진 한가운데 픽셀 하나" in study
    assert "가운데 자르기 (흰 테두리) (이 모델의 평가 방식)" in study and "사진 전체 (노란 테두리)" in study
    assert page.locator("#study-text table").count() == 0  # stacked rows, not a squeezed table
    regions = page.locator("#study-regions img")
    regions.wait_for(state="visible", timeout=30_000)
    for width in (400, 1280):
        page.set_viewport_size({"width": width, "height": 1000})
        blocks = page.evaluate(NOTHING_CUT, "#study-text li, #study-text p")
        assert blocks and not any(b["cut"] or b["outside"] for b in blocks), [b for b in blocks if b["cut"] or b["outside"]]
        assert page.evaluate(NOTHING_CUT, "#study-regions img")[0]["outside"] is False
        page.screenshot(path=str(ARTIFACTS / f"study-{width}.png"), full_page=True)
    # the report of what the tab shows
    page.locator("#classify-report").click()
    link = page.locator("#classify-report-file a").first
    link.wait_for(timeout=180_000)
    with page.expect_download() as download:
        link.click()
    report = Path(download.value.path()).read_text("utf-8")
    assert "모델은 어디를 보았을까? (Grad-CAM)" in report and "전처리 실험" in report
    assert "정답 비글 (beagle)을 찾은 곳" in report and "사진을 입력 크기로 맞추는 두 방식" in report


@pytest.mark.parametrize(("lang", "said"), [("ko", ["속 들여다보기", "EfficientNetLite0 속 들여다보기", "첫 합성곱 stem_conv: 필터 32개",
                                                      "수용 영역 787픽셀 (간격 32)", "배치 정규화 (stem_bn)", "차이"]),
                                           ("en", ["Inside", "Inside EfficientNetLite0", "First convolution stem_conv: 32 filters",
                                                   "receptive field 787 px (stride 32)", "batch norm (stem_bn)", "difference"])])
def test_the_inside_tab_shows_every_view_and_reads_at_1280_and_400(page, app, lang, said):
    if lang != "ko":
        page.goto(f"{app['url']}/?lang={lang}")
        page.locator("#classify-button").wait_for(timeout=60_000)
    tab, *expected = said
    page.get_by_role("tab", name=tab, exact=True).click()
    page.locator("#inside-image input[type=file]").set_input_files(str(EXAMPLES_DIR / "dog_bicycle.jpg"))
    page.wait_for_function("document.querySelector('#inside-image img') !== null", timeout=60_000)
    page.locator("#inside-button").click()
    page.wait_for_function("document.querySelectorAll('#inside-pictures img').length >= 10", timeout=240_000)
    summary = page.locator("#inside-summary").inner_text()
    assert all(text in summary for text in expected), summary
    for picture in page.locator("#inside-pictures img").all():  # lazily loaded: as a reader scrolls to them
        picture.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('#inside-pictures img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=60_000)
    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 1000})
        pictures = page.evaluate(NOTHING_CUT, "#inside-pictures img")
        assert len(pictures) >= 10 and not any(p["outside"] for p in pictures), (width, pictures)
        lines = page.evaluate(NOTHING_CUT, "#inside-summary li, #inside-pictures .caption-label")
        assert not any(line["cut"] or line["outside"] for line in lines), [line for line in lines if line["cut"] or line["outside"]]
        page.screenshot(path=str(ARTIFACTS / f"inside-{lang}-{width}.png"), full_page=True)
    if lang == "ko":  # the report of what the tab shows
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.locator("#inside-report").click()
        link = page.locator("#inside-report-file a").first
        link.wait_for(timeout=120_000)
        with page.expect_download() as download:
            link.click()
        assert "EfficientNetLite0" in Path(download.value.path()).read_text("utf-8")
