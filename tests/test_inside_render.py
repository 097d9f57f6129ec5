"""The inside report's pictures (plugin/render/inside.py) and the report kind "inside"
(plugin/render/pages/inside.py), from a study made by hand: no engine, known arrays, so each
picture's tiles, colours and words can be counted and the page read in a real Chromium."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR, get_settings
from plugin.errors import AccessDeniedError, RenderError
from plugin.render import inside
from tests.conftest import REPO, settings_between_tests

ARTIFACTS = REPO / "test-artifacts" / "inside"
WHITE = (255, 255, 255)


def picture(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        return opened.copy()


def opaque_and_sized(data: bytes, *, max_width: int = inside.MAX_WIDTH) -> Image.Image:
    """An opaque PNG (no alpha band) no wider than `max_width`, whose outer margin is background:
    nothing drawn reaches the edge, so nothing was cut."""
    drawn = picture(data)
    assert drawn.mode == "RGB", drawn.mode
    assert 100 <= drawn.width <= max_width and drawn.height >= 100, drawn.size
    pixels = np.asarray(drawn)
    edge = np.concatenate([pixels[:6].reshape(-1, 3), pixels[-6:].reshape(-1, 3), pixels[:, :6].reshape(-1, 3),
                           pixels[:, -6:].reshape(-1, 3)])
    assert (edge == 255).all(), "something is drawn on the picture's edge: cut"
    return drawn


def colourful(drawn: Image.Image) -> bool:
    """Whether any pixel has colour (its channels more than 30 apart): grey tiles and ink have none."""
    pixels = np.asarray(drawn).astype(int)
    return bool((pixels.max(axis=-1) - pixels.min(axis=-1) > 30).any())


def colour_count(drawn: Image.Image, colour) -> int:
    return int((np.asarray(drawn) == np.array(colour, dtype=np.uint8)).all(axis=-1).sum())


# ----- a study made by hand ------------------------------------------------------------------

def edge_kernels(count: int = 64, size: int = 3) -> np.ndarray:
    """Kernels that look like a first layer's: oriented edges, each in its own colour mix."""
    rng = np.random.default_rng(1)
    kernels = np.zeros((size, size, 3, count))
    ramp = np.linspace(-1, 1, size)
    for index in range(count):
        angle = rng.uniform(0, np.pi)
        edge = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
        colour = rng.normal(0, 1, 3)
        kernels[:, :, :, index] = 0.3 * edge[:, :, None] * colour[None, None, :] / np.abs(colour).max()
    return kernels


def feature_entry(layer: str, shape: list[int], channels: list[int], *, stage: str | None, field: dict | None) -> dict:
    return {"layer": layer, "stage": stage, "output_shape": shape, "after_relu": True, "activation": f"{layer} (ReLU inside)",
            "channels": channels, "means": [round(1.0 / (index + 1), 4) for index in range(len(channels))],
            "receptive_field": field}


def hand_study() -> dict:
    """An `InsideResult` and the arrays its pictures are drawn from, with every view."""
    rng = np.random.default_rng(0)
    kernels = edge_kernels()
    deeper = rng.normal(0, 0.05, (3, 3, 64, 8))
    bins = np.linspace(-0.6, 0.6, 49)
    trained_weights, untrained_weights = rng.normal(0.02, 0.2, 1728), rng.uniform(-0.11, 0.11, 1728)

    def stats(values):
        return {"count": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
                "min": float(values.min()), "max": float(values.max())}

    fields = {"conv1": {"size": 3, "stride": 1, "start": 0.0}, "conv1_relu": {"size": 3, "stride": 1, "start": 0.0},
              "pool1": {"size": 4, "stride": 2, "start": 0.5}, "conv2": {"size": 8, "stride": 2, "start": 0.5},
              "pool2": {"size": 10, "stride": 4, "start": 1.5}, "conv3": {"size": 18, "stride": 4, "start": 1.5},
              "pool3": {"size": 22, "stride": 8, "start": 3.5}}
    photo_maps = [np.maximum(rng.normal(0, 1, (56, 56, 16)), 0), np.maximum(rng.normal(0, 1, (14, 14, 16)), 0),
                  np.maximum(rng.normal(0, 1, (7, 7, 32)), 0)]
    photo_maps[0][20:30, 10:40, 0] = 6.0  # the first channel: a bright bar, as a real edge map has
    maps = [feature_entry("conv1_relu", [56, 56, 16], list(range(16)), stage="stem", field=fields["conv1_relu"]),
            feature_entry("pool2", [14, 14, 32], [3, 1, 4, 15, 9, 2, 6, 5, 30, 8, 7, 10, 0, 11, 12, 13], stage="stage 2",
                          field=fields["pool2"]),
            feature_entry("pool3", [7, 7, 32], list(range(32)), stage="stage 3", field=fields["pool3"])]
    patch = rng.normal(0, 1, (3, 3, 3))
    kernel = kernels[:, :, :, 5]
    products = patch * kernel
    total, bias = float(products.sum()), 0.0421
    conv = total + bias
    normalised = (conv - 0.1) / np.sqrt(0.04 + 1e-3) * 1.2 + 0.3
    value = max(normalised, 0.0) + 0.5  # the pool's window holds a larger neighbour
    walk = {"layer": "conv1", "channel": 5, "cell": [12, 20], "patch": patch.tolist(), "kernel": kernel.tolist(),
            "products": products.tolist(), "sum": total, "bias": bias, "conv": conv,
            "steps": [{"name": "batch_norm", "layer": "bn1", "formula": "(x - 0.1) / sqrt(0.04 + 0.001) * 1.2 + 0.3", "value": normalised},
                      {"name": "relu", "layer": "conv1_relu", "formula": "max(x, 0)", "value": max(normalised, 0.0)},
                      {"name": "max_pool", "layer": "pool1", "formula": "max of the 2x2 window", "value": value}],
            "value": value, "model_value": value + 3e-7, "model_layer": "pool1", "difference": 3e-7}
    maximized = [{"layer": "pool2", "channel": channel, "steps": 30, "seconds": 0.8 + index / 10, "activation_start": 0.01,
                  "activation_end": 2.5 + index} for index, channel in enumerate([3, 1, 4])]
    images = [(np.stack([*np.meshgrid(np.linspace(0, 255, 128), np.linspace(255, 0, 128)), np.full((128, 128), 90.0)], -1)
               * (0.6 + 0.2 * index)).clip(0, 255).astype(np.uint8) for index in range(3)]
    result = {
        "model": "TinyNet", "weights": "imagenet", "untrained": False,
        "views": ["filters", "histograms", "feature_maps", "receptive_field", "walk", "maximize"],
        "timings": {"filters": 0.012, "histograms": 0.31, "feature_maps": 0.42, "walk": 0.05, "maximize": 2.7},
        "image": {"width": 640, "height": 480, "source": "file dog_bicycle.jpg", "kind": "file", "name": "dog_bicycle.jpg"},
        "region": {"resize": "crop", "box": [80.0, 0.0, 560.0, 480.0], "interpolation": "bilinear", "crop_fraction": 1.0,
                   "left_out": 0.25, "warning": False},
        "filters": {"layer": "conv1", "kind": "conv", "shape": [3, 3, 3, 64], "shown": list(range(64)), "scale": 0.3},
        "deeper_filters": {"layer": "conv2", "kind": "conv", "shape": [3, 3, 64, 32], "shown": [3, 1, 4, 15, 9, 2, 6, 5],
                           "scale": float(np.abs(deeper).max())},
        "histograms": {"layer": "conv1", "initializer": "GlorotUniform", "bins": bins.tolist(),
                       "trained": stats(trained_weights), "untrained": stats(untrained_weights),
                       "trained_counts": np.histogram(trained_weights, bins)[0].tolist(),
                       "untrained_counts": np.histogram(untrained_weights, bins)[0].tolist(),
                       "batch_norm": {"layer": "bn1", "gamma": {"mean": 0.91, "std": 0.3}, "beta": {"mean": 0.12, "std": 0.4}}},
        "feature_maps": maps, "receptive_fields": fields, "walk": walk, "maximized": maximized,
    }
    photo = Image.open(EXAMPLES_DIR / "dog_bicycle.jpg").convert("RGB")
    return {"result": result, "photo": photo, "kernels": kernels, "deeper_kernels": deeper, "feature_maps": photo_maps,
            "maximized": images, "cell_box": (80 + 12 * 480 / 56, 20 * 480 / 56, 80 + 15 * 480 / 56, 23 * 480 / 56)}


def draw(study: dict, lang: str) -> dict:
    return inside.inside_pictures(study["result"], lang, photo=study["photo"], kernels=study["kernels"],
                                  deeper_kernels=study["deeper_kernels"], feature_maps=study["feature_maps"],
                                  maximized=study["maximized"], cell_box=study["cell_box"], channel_order="RGB")


def write_pictures(pictures: dict, folder: Path, lang: str) -> dict:
    """The pictures written as the API writes them, and their paths as `pictures` names them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict = {}
    for key, data in pictures.items():
        if isinstance(data, list):
            paths[key] = []
            for index, piece in enumerate(data):
                (folder / f"{key}-{index}-{lang}.png").write_bytes(piece)
                paths[key].append(str(folder / f"{key}-{index}-{lang}.png"))
        else:
            (folder / f"{key}-{lang}.png").write_bytes(data)
            paths[key] = str(folder / f"{key}-{lang}.png")
    return paths


@pytest.fixture(scope="module")
def study():
    return hand_study()


@pytest.fixture(scope="module")
def made(study, tmp_path_factory):
    """The pictures in both languages and the report rendered in both, once."""
    out = tmp_path_factory.mktemp("inside-out")
    plugin.configure(output_dir=out)
    try:
        drawn = {lang: draw(study, lang) for lang in ("ko", "en")}
        result = dict(study["result"], pictures={lang: write_pictures(drawn[lang], out / "inside", lang) for lang in ("ko", "en")})
        reports = {lang: plugin.render_report("inside", lang, result=result) for lang in ("ko", "en")}
    finally:
        settings_between_tests()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang, report in reports.items():
        (ARTIFACTS / f"report-{lang}.md").write_text(Path(report["markdown_path"]).read_text("utf-8"), "utf-8")
    for lang, pictures in drawn.items():
        for key, data in pictures.items():
            for index, piece in enumerate(data if isinstance(data, list) else [data]):
                (ARTIFACTS / f"{key}-{index}-{lang}.png").write_bytes(piece)
    return {"pictures": drawn, "reports": reports, "result": result, "out": out}


# ----- the pictures --------------------------------------------------------------------------

def test_korean_words_are_drawn_in_a_korean_font_not_as_boxes():
    """A font without Hangul draws every syllable as the same box (tofu): here 가 and 나 differ from
    each other and from a character no font has, and the label leaves ink."""
    face = inside.font(28)

    def ink(text: str) -> np.ndarray:
        canvas = Image.new("L", (120, 50), 255)
        from PIL import ImageDraw

        ImageDraw.Draw(canvas).text((4, 4), text, font=face, fill=0)
        return np.asarray(canvas)

    ga, na, missing = ink("가"), ink("나"), ink("\U000f0000")
    assert (ga < 128).sum() > 40 and (na < 128).sum() > 40
    assert not np.array_equal(ga, na)
    assert not np.array_equal(ga, missing)
    assert "CJK" in " ".join(face.getname()) or "KR" in " ".join(face.getname()), face.getname()


def test_a_first_layers_kernels_are_one_tile_each_in_a_grid():
    """64 kernels, each one flat colour of its own (no grey, which the words are drawn in): 64 tiles
    of 3x3 cells, each the same size, none lost or cut, the weights scaled around mid-grey."""
    count = 64
    kernels = np.zeros((3, 3, 3, count))
    levels = np.linspace(-0.25, 0.2, 8)  # red and green at 8 levels each; blue one level none of them has
    for index in range(count):
        kernels[:, :, :, index] = np.array([levels[index % 8], levels[index // 8], 0.23])
    view = {"layer": "block1_conv1", "kind": "conv", "shape": [3, 3, 3, count], "shown": list(range(count)), "scale": 0.25}
    drawn = opaque_and_sized(inside.kernel_grid_png(kernels, view, "ko"))
    assert colourful(drawn)
    pixels = np.asarray(drawn).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    tile_area = (3 * inside._factor(3, inside._KERNEL_TILE)) ** 2
    tiles = {tuple(colour) for colour, n in zip(colours, counts) if n == tile_area}
    expected = {tuple(int(round(np.clip(127.5 + 127.5 * v / 0.25, 0, 255))) for v in kernels[0, 0, :, index])
                for index in range(count)}
    assert expected <= tiles and len(expected) == count
    assert (0, 0, 0) in {colour[:1] + (0, 0) for colour in expected}  # -scale is black, +scale would be full


def test_a_bgr_model_s_kernel_is_drawn_in_the_colour_it_responds_to():
    """Caffe-preprocessed models (VGG16, ResNet50) take blue first: a kernel that weighs only input
    channel 0 responds to blue, and its tile is blue; the same kernel of an RGB model is red."""
    kernels = np.zeros((3, 3, 3, 1))
    kernels[:, :, 0, 0] = 0.5
    view = {"layer": "conv1", "kind": "conv", "shape": [3, 3, 3, 1], "shown": [0], "scale": 0.5}
    tile_area = (3 * inside._factor(3, inside._KERNEL_TILE)) ** 2
    assert colour_count(picture(inside.kernel_grid_png(kernels, view, "en", channel_order="BGR")), (128, 128, 255)) == tile_area
    assert colour_count(picture(inside.kernel_grid_png(kernels, view, "en")), (255, 128, 128)) == tile_area


def test_a_deeper_layers_kernels_are_grey_slices_per_input_channel():
    rng = np.random.default_rng(3)
    kernels = rng.normal(0, 0.05, (3, 3, 128, 8))
    view = {"layer": "block3_conv1", "kind": "conv", "shape": [3, 3, 128, 256], "shown": [0, 5, 9, 12, 40, 41, 100, 255],
            "scale": 0.15}
    drawn = opaque_and_sized(inside.kernel_grid_png(kernels, view, "ko"))  # more than 3 inputs: drawn as slices
    assert drawn.tobytes() == picture(inside.channel_slices_png(kernels, view, "ko")).tobytes()
    assert not colourful(drawn)  # every slice grey (the words are near-grey ink)
    side = 3 * inside._factor(3, inside._KERNEL_TILE)
    assert drawn.height > 8 * side and drawn.width > inside.SLICE_INPUTS * side  # 8 rows of 6 slices


def test_depthwise_kernels_are_one_grey_tile_per_channel():
    kernels = np.random.default_rng(4).normal(0, 0.3, (3, 3, 32, 1))
    view = {"layer": "blocks_0_dwconv", "kind": "depthwise", "shape": [3, 3, 32, 1], "shown": list(range(32)), "scale": 0.9}
    drawn = opaque_and_sized(inside.kernel_grid_png(kernels, view, "en"))
    assert not colourful(drawn)
    side = 3 * inside._factor(3, inside._KERNEL_TILE)
    assert drawn.height >= 4 * side and drawn.width >= 8 * side  # 32 tiles: 4 rows of 8


def test_the_histograms_share_their_bins_trained_in_blue_untrained_in_orange():
    """Trained weights only left of zero, untrained only right of it: the plot's left half has blue
    and no orange, its right half orange and no blue, on the same axis."""
    bins = np.linspace(-1, 1, 21).tolist()
    trained = [50] * 10 + [0] * 10
    untrained = [0] * 10 + [30] * 10
    stats = {"count": 500, "mean": -0.5, "std": 0.29, "min": -1.0, "max": 0.0}
    pair = {"layer": "conv1", "initializer": "HeNormal", "bins": bins, "trained": stats,
            "untrained": dict(stats, count=300, mean=0.5), "trained_counts": trained, "untrained_counts": untrained,
            "batch_norm": None}
    drawn = opaque_and_sized(inside.histograms_png(pair, "ko", weights="imagenet"))
    pixels = np.asarray(drawn).astype(int)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    bluish = (blue - red > 60) & (blue > 180)
    orangish = (red - blue > 60) & (red > 180) & (green < 200)
    rows = slice(drawn.height // 3, drawn.height * 3 // 4)  # the bars, below the legend's swatches
    middle = drawn.width // 2 + 20
    assert bluish[rows, :middle - 40].sum() > 2000 and orangish[rows, :middle - 40].sum() == 0
    assert orangish[rows, middle + 20:].sum() > 2000 and bluish[rows, middle + 20:].sum() == 0


def test_each_feature_map_channel_is_one_tile_at_the_layers_resolution():
    """Sixteen 7x7 channels with one hot cell each: sixteen yellow squares, each one cell enlarged
    nearest-neighbour (16 x 16 pixels), no more, no less."""
    maps = np.zeros((7, 7, 16))
    for index in range(16):
        maps[index % 7, (index * 3) % 7, index] = 2.0
    entry = feature_entry("conv5_block3_out", [7, 7, 2048], list(range(16)), stage="conv5_x", field={"size": 427, "stride": 32, "start": 0.0})
    drawn = opaque_and_sized(inside.feature_map_grid_png(maps, entry, "ko"))
    factor = inside._factor(7, inside._MAP_TILE)
    yellow = tuple(int(v) for v in inside.viridis(np.array(1.0)))
    violet = tuple(int(v) for v in inside.viridis(np.array(0.0)))
    assert colour_count(drawn, yellow) == 16 * factor * factor
    assert colour_count(drawn, violet) == 16 * (49 - 1) * factor * factor


def test_every_picture_of_a_study_is_opaque_whole_and_in_both_languages(made, study):
    for pictures in made["pictures"].values():
        assert set(pictures) == {"filters", "deeper_filters", "histograms", "feature_maps", "receptive_field", "maximized"}
        assert len(pictures["feature_maps"]) == len(study["result"]["feature_maps"])
        for key, data in pictures.items():
            for piece in data if isinstance(data, list) else [data]:
                if key == "receptive_field":  # the photo itself, to its edges
                    drawn = picture(piece)
                    assert drawn.mode == "RGB" and max(drawn.size) == 640
                else:
                    opaque_and_sized(piece)
    assert made["pictures"]["ko"]["histograms"] != made["pictures"]["en"]["histograms"]  # its words in each language


def test_the_receptive_field_is_drawn_where_the_cell_sees():
    photo = Image.new("RGB", (400, 300), (90, 140, 90))
    drawn = picture(inside.receptive_field_png(photo, (100, 50, 160, 110)))
    pixels = np.asarray(drawn)
    pink = (pixels == np.array(inside.FIELD_COLOUR, dtype=np.uint8)).all(axis=-1)
    rows, columns = np.nonzero(pink)
    assert 97 <= columns.min() <= 100 and 158 <= columns.max() <= 161 and 47 <= rows.min() <= 50 and 108 <= rows.max() <= 111
    assert tuple(pixels[80, 130]) == (90, 140, 90) and tuple(pixels[250, 350]) != (90, 140, 90)  # inside as it is, outside dimmed


def test_maximised_images_sit_in_a_row_with_the_photos_maps_under_them(study):
    images = study["maximized"]
    maps = [np.eye(14), None, np.ones((14, 14))]
    drawn = opaque_and_sized(inside.maximized_png(images, study["result"]["maximized"], "ko", maps=maps))
    alone = opaque_and_sized(inside.maximized_png(images, study["result"]["maximized"], "ko"))
    assert drawn.width == alone.width and drawn.height > alone.height + 150  # a second row: the photo's maps


# ----- the report ----------------------------------------------------------------------------

def markdown_links(markdown: str) -> list[tuple[str, str]]:
    return re.findall(r"!\[([^\]]*)\]\(([^)]+)\)", markdown)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_report_says_what_to_notice_with_the_studys_numbers(made, lang):
    report = made["reports"][lang]
    assert report["title"] == ("TinyNet 속 들여다보기" if lang == "ko" else "Inside TinyNet")
    html = Path(report["path"]).read_text("utf-8")
    markdown = Path(report["markdown_path"]).read_text("utf-8")
    result = made["result"]
    trained, untrained = result["histograms"]["trained"], result["histograms"]["untrained"]
    ratio = f"{trained['std'] / untrained['std']:.1f}"
    for text in (html, markdown):
        assert ratio in text and ("넓게" if lang == "ko" else "wider") in text  # trained spread wider, said with the ratio
        assert f"{result['walk']['model_value']:.4f}" in text and "3.0e-07" in text  # the walk ends at the model's value
        assert ("에지" if lang == "ko" else "edge") in text
        assert ("알아보기 어려워" if lang == "ko" else "harder to read") in text
        assert ("수용 영역은" if lang == "ko" else "A receptive field is") in text
        assert "GlorotUniform" in text and "pool3" in text
    assert html.count('<img class="figure"') == 8  # filters, deeper, histograms, 3 maps, receptive field, maximised


def test_every_picture_of_the_markdown_is_in_its_zip_opaque(made):
    for report in made["reports"].values():
        markdown = Path(report["markdown_path"]).read_text("utf-8")
        links = markdown_links(markdown)
        assert len(links) == 8
        with zipfile.ZipFile(report["post_path"]) as post:
            names = set(post.namelist())
            for alt, link in links:
                assert alt.strip() and link.endswith(".png") and link in names, (alt, link)
                drawn = picture(post.read(link))
                assert drawn.mode == "RGB" and drawn.width <= inside.MAX_WIDTH


def test_the_korean_report_is_korean(made):
    """No run of four English words in the Korean page's prose (layer names and formulas are code)."""
    from tests.test_reports import Page

    html = Path(made["reports"]["ko"]["path"]).read_text("utf-8")
    prose = " ".join(Page(html).prose)
    runs = re.findall(r"(?:\b[A-Za-z][A-Za-z'-]*\b[ ,]+){3}\b[A-Za-z][A-Za-z'-]*\b", prose)
    assert not [run for run in runs if "CNN Study Lab" not in run], runs


def test_a_picture_outside_the_output_folder_is_refused(study, tmp_path):
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(inside.histograms_png(study["result"]["histograms"], "en"))
    plugin.configure(output_dir=tmp_path / "out")
    result = dict(study["result"], pictures={"histograms": str(elsewhere)})
    with pytest.raises(AccessDeniedError):
        plugin.render_report("inside", "en", result=result)
    inside_out = get_settings().output_dir / "inside"
    inside_out.mkdir(parents=True)
    (inside_out / "not-a-picture.png").write_text("hello")
    with pytest.raises(RenderError):
        plugin.render_report("inside", "en", result=dict(study["result"], pictures={"histograms": str(inside_out / "not-a-picture.png")}))


def test_a_study_without_a_photo_has_only_the_weight_views(study, tmp_path):
    """The weight views alone (no photo): no empty sections, and the words say a photo would add the rest."""
    plugin.configure(output_dir=tmp_path / "out")
    bare = {key: value for key, value in study["result"].items()
            if key not in ("image", "region", "feature_maps", "walk", "maximized", "receptive_fields")}
    bare["views"] = ["filters", "histograms"]
    pictures = inside.inside_pictures(bare, "en", kernels=study["kernels"], deeper_kernels=study["deeper_kernels"])
    assert set(pictures) == {"filters", "deeper_filters", "histograms"}
    bare["pictures"] = write_pictures(pictures, tmp_path / "out" / "inside", "en")  # one mapping, not one per language
    report = plugin.render_report("inside", "en", result=bare)
    html = Path(report["path"]).read_text("utf-8")
    assert "Give a photo as well" in html and "walk-title" not in html and "maps-title" not in html
    assert len(markdown_links(Path(report["markdown_path"]).read_text("utf-8"))) == 3


def test_the_report_reads_whole_in_chromium(made, browser):
    """At desktop and phone width: nothing wider than the screen, every picture loaded, shown whole
    (not squashed) and inside the page, the walk's blocks inside the screen."""
    for lang, report in made["reports"].items():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda request, seen=requests: seen.append(request.url))
            page.goto(Path(report["path"]).as_uri())
            page.wait_for_load_state("load")
            for width in (1280, 400):
                page.set_viewport_size({"width": width, "height": 900})
                assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, (lang, width)
                images = page.evaluate("""[...document.images].map(i => { const b = i.getBoundingClientRect();
                    return [i.naturalWidth, i.naturalHeight, b.left, b.right, b.width, b.height]; })""")
                assert len(images) == 8
                for natural_w, natural_h, left, right, shown_w, shown_h in images:
                    assert natural_w > 0 and left >= 0 and right <= width
                    assert abs(shown_h / shown_w - natural_h / natural_w) < 0.02  # scaled, never squashed or cut
                for box in page.locator(".walk-channel").all():
                    bounds = box.bounding_box()
                    assert bounds and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width
                page.screenshot(path=str(ARTIFACTS / f"report-{lang}-{width}.png"), full_page=True)
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
        finally:
            context.close()
