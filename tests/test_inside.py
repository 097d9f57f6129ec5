"""look_inside through every door, with the real EfficientNet-Lite0 weights on the example dog: the
Python API (numbers and pictures), the tool and its MCP images, `llm`'s attachments, the command
line and the report."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.config import EXAMPLES_DIR
from plugin.doors.tools import call_tool

DOG = str(EXAMPLES_DIR / "dog_bicycle.jpg")
LITE = "EfficientNetLite0"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("inside")


@pytest.fixture(scope="module")
def looked(folder):
    """One look inside Lite0 on the dog with every view, two channels maximised."""
    plugin.configure(output_dir=folder)
    return plugin.api.look_inside(DOG, LITE, layer="block1a_dwconv", maximize=2, lang="ko")


def colourful(path) -> bool:
    """Whether a picture has coloured pixels, not only greys."""
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=np.int16)
    return bool((pixels.max(axis=2) - pixels.min(axis=2) > 40).mean() > 0.01)


def opaque_png(path) -> tuple[int, int]:
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.mode == "RGB", (path, picture.mode)
        pixels = np.asarray(picture)
        assert pixels.std() > 5, path  # not a blank picture
        return picture.size


def test_every_view_answers_with_its_numbers_and_picture(looked):
    assert looked["views"] == ["filters", "histograms", "feature_maps", "receptive_field", "walk", "maximize"]
    assert looked["filters"]["layer"] == "stem_conv" and looked["filters"]["shape"] == [3, 3, 3, 32]
    assert looked["deeper_filters"]["kind"] == "depthwise"  # block1a_dwconv: one spatial kernel per channel
    pair = looked["histograms"]  # of block1a_dwconv, the layer asked for: trained spread wider than freshly drawn
    assert pair["layer"] == "block1a_dwconv" and pair["trained"]["std"] > 1.2 * pair["untrained"]["std"]
    stages = [entry["stage"] for entry in looked["feature_maps"]]
    assert stages[0] == "stem" and stages[-1] == "block7" and len(looked["feature_maps"]) == 8
    fields = [entry["receptive_field"]["size"] for entry in looked["feature_maps"]]
    assert fields == sorted(fields) and fields[0] == 3  # deeper layers see more of the photo
    walked = looked["walk"]
    assert walked["difference"] < 1e-4 and abs(walked["value"] - walked["model_value"]) < 1e-4
    assert [step["name"] for step in walked["steps"]] == ["batch_norm", "activation"]
    assert all(found["activation_end"] > found["activation_start"] for found in looked["maximized"])
    assert looked["maximized"][0]["layer"] == "block1a_dwconv"  # the layer asked for
    pictures = looked["pictures"]
    for key in ("filters", "deeper_filters", "histograms", "receptive_field", "maximized"):
        opaque_png(pictures[key])
    assert colourful(pictures["filters"]) and not colourful(pictures["deeper_filters"])  # RGB kernels in colour, depthwise in grey
    maps = [np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) for path in pictures["feature_maps"]]
    assert len(maps) == 8 and all(drawn.shape[1] <= 1400 and drawn.std() > 20 for drawn in maps)  # not blank
    assert maps[0].shape != maps[-1].shape or np.abs(maps[0] - maps[-1]).mean() > 10  # and not the same picture
    assert set(looked["timings"]) == set(looked["views"])


def test_the_weights_alone_need_no_photo_and_a_photo_view_without_one_is_refused():
    alone = plugin.api.look_inside(model=LITE, views=["filters", "histograms", "receptive_field"])
    assert "feature_maps" not in alone and "image" not in alone and alone["receptive_fields"]["stem_conv"]["size"] == 3
    with pytest.raises(plugin.InvalidInputError, match="photo"):
        plugin.api.look_inside(model=LITE, views=["walk"])
    with pytest.raises(plugin.InvalidInputError, match="views"):
        plugin.api.look_inside(DOG, LITE, views=["everything"])


def test_a_model_file_of_ones_own_is_looked_inside(stripe_model_files, tmp_path):
    from tests.conftest import save_png, stripes

    file = stripe_model_files["keras"]
    alone = plugin.api.look_inside(model_path=file, views=["filters", "receptive_field"])  # no pixels read: no preprocessing needed
    assert alone["model"] == "stripes.keras" and alone["filters"]["kind"] == "conv"
    photo = save_png(stripes("vertical", size=96, seed=3), tmp_path / "vertical.png")
    seen = plugin.api.look_inside(photo, model_path=file, preprocessing="rescale", views=["feature_maps", "walk"])
    assert seen["walk"]["difference"] < 1e-4 and seen["feature_maps"]


def test_the_tool_answers_with_paths_in_the_output_folder_and_mcp_images():
    from plugin.doors.mcp import run_tool

    arguments = {"image": DOG, "model": LITE, "views": ["filters", "feature_maps", "walk"], "lang": "en"}
    result = call_tool("look_inside", arguments)
    assert "error" not in result, result
    assert not Path(result["pictures"]["filters"]).is_absolute()  # relative: the server's folders stay unsaid
    assert (plugin.get_settings().output_dir / result["pictures"]["filters"]).is_file()
    answered = run_tool("look_inside", arguments | {"include_image": True})
    assert [block.type for block in answered.content][:2] == ["text", "image"]
    assert call_tool("look_inside", {"image": DOG, "model": LITE, "maximize": 99})["error"]["type"] == "InvalidArguments"
    fields = call_tool("look_inside", {"model": LITE, "views": ["receptive_field"]})  # sized for a model's context
    sizes = [field["size"] for field in fields["receptive_fields"].values()]
    assert 10 < len(sizes) < 40 and sizes[:2] == [1, 3]  # the input pixel itself, then the first convolution
    assert "layers: each where the field grows" in fields["receptive_fields_note"]


def test_llm_gives_the_pictures_as_attachments():
    import llm

    tool = llm.get_tools()["look_inside"]
    call = {"tool_calls": [{"name": "look_inside", "arguments": {"image": DOG, "model": LITE, "views": ["filters", "walk"]}}]}
    response = llm.get_model("echo").prompt(json.dumps(call), tools=[tool])
    response.text()
    [result] = response.execute_tool_calls()
    assert json.loads(result.output)["walk"]["difference"] < 1e-4
    assert [Path(picture.path).name.split("-")[1] for picture in result.attachments] == ["filters"]


def test_the_command_line_walks_the_value_through(launch):
    done = launch("inside", DOG, "--model", LITE, "--views", "filters", "walk", "--walk", "--lang", "ko")
    assert done.returncode == 0, done.stderr
    assert "EfficientNetLite0 속 들여다보기" in done.stdout and "배치 정규화 (stem_bn)" in done.stdout
    assert "차이" in done.stdout and "filters-" in done.stdout


def test_the_report_holds_every_picture_in_its_post(looked, folder):
    plugin.configure(output_dir=folder)  # where the pictures were drawn: a report reads them only there
    files = plugin.render_report("inside", "ko", result=looked)
    page = Path(files["path"]).read_text("utf-8")
    assert "EfficientNetLite0" in page and "stem_conv" in page
    assert "넓게 퍼져" in page and "밖에 되지 않습니다" in page and "depthwise" in page  # what to notice, said from the numbers
    with zipfile.ZipFile(files["post_path"]) as post:
        names = post.namelist()
        markdown = post.read(next(name for name in names if name.endswith(".md"))).decode()
        for link in [line.split("](")[1].rstrip(")") for line in markdown.splitlines() if line.startswith("![")]:
            assert any(name.endswith(link) for name in names), link
