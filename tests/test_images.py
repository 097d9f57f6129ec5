"""Image intake: every accepted form, every colour mode, and clear errors for bad input."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import plugin
from plugin.engine.intake.images import load_image
from plugin.errors import AccessDeniedError, ImageError, InvalidInputError


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pixel(loaded, xy=(0, 0)):
    return loaded.image.getpixel(xy)


@pytest.fixture
def red_png(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (30, 20), (255, 0, 0)).save(path)
    return path


def test_file_path_string_and_pathlike(red_png):
    for source in (str(red_png), red_png):
        loaded = load_image(source)
        assert (loaded.width, loaded.height, loaded.image.mode) == (30, 20, "RGB")
        assert loaded.source == "file red.png"
        assert pixel(loaded) == (255, 0, 0)


def test_data_uri_base64_and_raw_bytes(red_png):
    raw = red_png.read_bytes()
    b64 = base64.b64encode(raw).decode()
    assert load_image(f"data:image/png;base64,{b64}").source == "data URI"
    assert load_image(b64).source == "base64 string"
    assert load_image(base64.urlsafe_b64encode(raw).decode().rstrip("=")).width == 30
    assert load_image(raw).source == f"{len(raw):,} bytes"
    assert pixel(load_image(bytearray(raw))) == (255, 0, 0)


def test_pil_image_and_numpy_arrays():
    assert pixel(load_image(Image.new("RGB", (4, 4), (1, 2, 3)))) == (1, 2, 3)
    assert pixel(load_image(np.full((4, 5, 3), 200, np.uint8))) == (200, 200, 200)
    assert pixel(load_image(np.full((4, 5), 0.5, np.float32))) == (128, 128, 128)
    assert pixel(load_image(np.full((4, 5, 1), 65535, np.uint16))) == (255, 255, 255)
    assert pixel(load_image(np.full((4, 5, 3), 257 * 16, np.uint16))) == (16, 16, 16)
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert pixel(load_image(rgba)) == (255, 255, 255)  # fully transparent: white


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 10, 20))  # left quarter red
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display rotated 90 degrees clockwise
    loaded = load_image(encode(image, "JPEG", exif=exif, quality=95))
    assert (loaded.width, loaded.height) == (20, 40)
    r, g, b = pixel(loaded, (10, 2))  # the red strip is now at the top
    assert r > 200 and b < 60


def test_palette_with_transparency_lies_on_white():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 1), 1)
    loaded = load_image(encode(image, "PNG", transparency=0))
    assert pixel(loaded, (0, 0)) == (255, 255, 255)
    assert pixel(loaded, (1, 1)) == (255, 0, 0)


def test_rgba_is_composited_onto_white():
    image = Image.new("RGBA", (2, 1), (255, 0, 0, 128))
    image.putpixel((1, 0), (0, 0, 0, 0))
    loaded = load_image(encode(image))
    r, g, b = pixel(loaded, (0, 0))
    assert r == 255 and 120 <= g <= 135 and 120 <= b <= 135
    assert pixel(loaded, (1, 0)) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb():
    loaded = load_image(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95))
    r, g, b = pixel(loaded, (4, 4))
    assert loaded.image.mode == "RGB" and r > 230 and g < 30 and b < 30


def test_grayscale_and_one_bit_images_become_rgb():
    assert pixel(load_image(encode(Image.new("L", (3, 3), 77)))) == (77, 77, 77)
    assert pixel(load_image(encode(Image.new("1", (3, 3), 1)))) == (255, 255, 255)


def test_16_bit_grayscale_png_is_scaled_not_clipped():
    array = np.array([[0, 32896, 65535]], dtype=np.uint16)
    loaded = load_image(encode(Image.fromarray(array)))
    assert [pixel(loaded, (x, 0))[0] for x in range(3)] == [0, 128, 255]


def png_rgb16(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot write one)."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_16_bit_rgb_png():
    loaded = load_image(png_rgb16(np.array([[[65535, 0, 32896]]], dtype=np.uint16)))
    r, g, b = pixel(loaded)
    assert r == 255 and g == 0 and 127 <= b <= 128


def test_animation_gives_its_first_frame():
    frames = [Image.new("RGB", (6, 6), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    r, g, b = pixel(load_image(buffer.getvalue()))
    assert r > 200 and b < 50


def test_decompression_bomb_is_refused_before_decoding():
    plugin.configure(max_image_pixels=10_000)
    data = encode(Image.new("L", (1000, 1000)))  # a small file that decodes to a million pixels
    assert len(data) < 10_000
    with pytest.raises(ImageError, match=r"at most 10,000 pixels.*1000 x 1000.*decompression bomb"):
        load_image(data)


def test_oversized_input_is_refused(tmp_path, red_png):
    plugin.configure(max_image_bytes=50)
    with pytest.raises(ImageError, match="at most 50 bytes"):
        load_image(red_png)
    with pytest.raises(ImageError, match="at most 50 bytes"):
        load_image(red_png.read_bytes())
    with pytest.raises(ImageError, match="at most 50 bytes"):
        load_image("data:image/png;base64," + base64.b64encode(red_png.read_bytes()).decode())


def test_truncated_jpeg_is_a_clear_error():
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"), "JPEG")
    with pytest.raises(ImageError, match=r"complete, readable image.*JPEG"):
        load_image(data[: len(data) // 2])


def test_non_image_bytes_and_files_name_what_was_received(tmp_path):
    with pytest.raises(ImageError, match=r"Received: 26 bytes, which is text, not an image") as caught:
        load_image(b"hello world, not a picture")
    assert "hello" not in str(caught.value)
    secret = tmp_path / ".env"
    secret.write_text("API_KEY=sk-live-0123456789\n")
    plugin.configure(image_roots=[tmp_path])
    with pytest.raises(ImageError) as caught:
        load_image(str(secret))
    assert "sk-" not in str(caught.value) and "API_KEY" not in str(caught.value)  # the file's bytes are never echoed
    fake = tmp_path / "photo.jpg"
    fake.write_text("just text")
    with pytest.raises(ImageError, match="file photo.jpg"):
        load_image(fake)
    with pytest.raises(ImageError, match="is empty"):
        load_image(b"")


@pytest.mark.parametrize("bad", [None, 42, 3.5, ["a.png"], {"path": "a.png"}, ""])
def test_wrong_types_are_rejected_with_what_was_received(bad):
    with pytest.raises(InvalidInputError, match="Expected"):
        load_image(bad)


@pytest.mark.parametrize("array", [np.zeros((4, 4, 2)), np.zeros((4,)), np.zeros((0, 3, 3)),
                                   np.array([[np.nan]]), np.array([["a"]])])
def test_bad_arrays_are_rejected(array):
    with pytest.raises(ImageError):
        load_image(array)


def test_paths_outside_the_roots_are_refused(tmp_path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    Image.new("RGB", (2, 2)).save(outside)
    with pytest.raises(AccessDeniedError, match="allowed folders"):
        load_image(str(outside))
    with pytest.raises(AccessDeniedError):
        load_image(str(tmp_path / ".." / outside.parent.name / "secret.png"))
    link = tmp_path / "innocent.png"
    link.symlink_to(outside)
    with pytest.raises(AccessDeniedError):
        load_image(link)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(InvalidInputError, match="not a file"):
        load_image(tmp_path)


def test_bundled_example_is_readable():
    loaded = load_image(plugin.config.EXAMPLES_DIR / "cat_chelsea.png")
    assert (loaded.width, loaded.height) == (451, 300)


@pytest.mark.parametrize("format_, options", [("EPS", {}), ("ICO", {}), ("PCX", {}), ("TGA", {}), ("PPM", {}),
                                               ("IM", {}), ("SGI", {}), ("DDS", {}), ("QOI", {})])
def test_formats_outside_the_list_are_never_opened(format_, options, monkeypatch):
    """Pillow reads dozens of formats, EPS through Ghostscript: only JPEG, PNG, GIF, WebP, BMP and TIFF are opened."""
    from PIL import EpsImagePlugin

    picture = Image.new("RGB" if format_ != "DDS" else "RGBA", (16, 16), (200, 30, 30))
    data = encode(picture, format_, **options)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "/nonexistent/gs")  # were EPS decoded, this would be run
    opened = []
    Image.init()  # every plugin imported before the spy goes in
    monkeypatch.setattr(Image.Image, "load", lambda self: opened.append(self.format))
    with pytest.raises(ImageError, match="Expected an image file") as caught:
        load_image(data)
    assert opened == [] and ("not read here" in str(caught.value) or "unknown format" in str(caught.value))
    assert load_image(encode(picture.convert("RGB"), "PNG")).image.getpixel((0, 0)) == (200, 30, 30)


def test_a_huge_16_bit_image_is_read_in_bounded_memory(tmp_path):
    """A 49-megapixel 16-bit PNG (small on disk) is read and scaled down within a few hundred MB."""
    import json
    import subprocess
    import sys

    path = tmp_path / "big16.png"
    Image.fromarray(np.full((7000, 7000), 40000, dtype=np.uint16)).save(path)
    code = ("import json, resource, sys; from plugin.engine.intake.images import load_image; from plugin import configure; "
            "configure(image_roots=[sys.argv[1]]); before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "loaded = load_image(sys.argv[2]); after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "print(json.dumps({'size': [loaded.width, loaded.height], 'kept': loaded.image.width * loaded.image.height, "
            "'pixel': loaded.image.getpixel((5, 5)), 'grown_mb': (after - before) // 1024}))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    read = json.loads(out.stdout.strip().splitlines()[-1])
    assert read["size"] == [7000, 7000] and read["kept"] <= 4_000_000
    assert read["pixel"] == [156, 156, 156]  # 40000 / 65535 * 255 = 155.6
    assert read["grown_mb"] < 400, f"reading grew the process by {read['grown_mb']} MB"
