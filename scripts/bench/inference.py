"""Inference speed of one model on each backend: one photo end to end against `model.predict`,
batches as a fraction of the machine's limit, and the export that the ONNX backend needs.

VGG16's and ResNet50's ImageNet weights are a download this machine may not reach: where they are
not in the Keras cache, the model runs with random weights (seed 0, saved once to a file in the
Keras folder, so their export is cached like any other). Speed does not depend on the weights;
every result says which were used.
"""

from __future__ import annotations

import concurrent.futures
import io
import statistics
import time
from pathlib import Path

__all__ = ["bench_folder", "bench_weights", "measure_model", "median_ms", "BACKENDS"]

BACKENDS = ("keras", "onnx")
BATCH_CALL = 16
"""Images one classify_images call takes (`MAX_IMAGES_PER_CALL`); 64 images are four calls at once."""


def median_ms(call, runs: int) -> float:
    """The median wall time of `runs` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def bench_folder() -> Path:
    """Where the random weights of the benchmark are kept (an allowed root while it runs)."""
    from plugin.engine.models.weights import keras_cache_dir

    return keras_cache_dir() / "bench"


def bench_weights(name: str) -> tuple[str, str]:
    """The weights a model is measured with ("imagenet", or the path of a file of random weights)
    and what they are ("imagenet" or "random, seed 0")."""
    from plugin.engine.models.registry import get_spec
    from plugin.engine.models.weights import weights_status

    spec = get_spec(name)
    if weights_status(spec)["available"]:
        return "imagenet", "imagenet"
    target = bench_folder() / f"{spec.name.lower()}-random-seed0.weights.h5"
    if not target.is_file():
        import keras

        keras.utils.set_random_seed(0)
        target.parent.mkdir(parents=True, exist_ok=True)
        spec.build(None).save_weights(target)
    return str(target), "random, seed 0"


def measure_model(name: str, jpeg: bytes, peak_gflops: float, runs: int = 10, batches: bool = True,
                  fresh_export: bool = True, int8: bool = True) -> dict:
    """One model on each backend; the export is made afresh (timed) into the ONNX cache, or with
    `fresh_export=False` taken from it where it is there; with `int8`, also its int8 model's figures (`"int8"`).

    Returns:
        `{"model", "weights", "multiply_adds", "floor_ms" (one image's arithmetic at the measured peak), "export": {"seconds", "peak_rss_bytes", "size_bytes",
        "max_abs_diff"}, "predict_ms", "backends": {backend: {"end_to_end_ms", "of_predict",
        "infer_ms", "batch16_images_per_s", "batch16_of_peak", "batch64_images_per_s",
        "batch64_of_peak"}}}`.
    """
    from PIL import Image

    from plugin.engine.inference.onnx import cache_path, export_cached, export_onnx
    from plugin.engine.inference.prepared import load_registry_model
    from plugin.engine.inference.preprocessing import image_to_array, preprocess
    from plugin.engine.models.registry import get_spec
    from plugin.engine.models.weights import parse_weights, weights_path

    spec = get_spec(name)
    weights, described = bench_weights(name)
    weights_file = weights_path(spec, parse_weights(weights))
    if fresh_export:
        export = export_onnx(spec.name, weights_file, cache_path(spec.name, weights_file))
    else:
        export = export_cached(spec.name, weights_file)
    array = preprocess(image_to_array(Image.open(io.BytesIO(jpeg)).convert("RGB"), spec.input_size)[None], spec.preprocessing)
    keras_model = load_registry_model(spec.name, weights, "keras").runner.model
    keras_model.predict(array, verbose=0)
    predict = median_ms(lambda: keras_model.predict(array, verbose=0), runs)
    macs = spec.published.multiply_adds
    row = {"model": spec.name, "weights": described, "multiply_adds": macs, "predict_ms": round(predict, 2),
           "floor_ms": round(2 * macs / (peak_gflops * 1e9) * 1000, 2) if macs else None,
           "export": {key: export.get(key) for key in ("seconds", "peak_rss_bytes", "size_bytes", "max_abs_diff")},
           "backends": {}}
    for backend in BACKENDS:
        row["backends"][backend] = _backend_figures(spec.name, weights, backend, jpeg, array, predict, peak_gflops, runs, batches)
    if int8:
        row["int8"] = _int8_figures(spec.name, weights, Path(export["path"]), jpeg, predict, runs, batches)
    return row


def _int8_figures(name: str, weights: str, fp32: Path, jpeg: bytes, predict_ms: float, runs: int, batches: bool) -> dict:
    """The int8 model on onnxruntime: with ImageNet weights, the one `precision="int8"` uses (made and
    checked against float32, its agreement given); with random weights, the same recipe unchecked,
    for speed only (`"agreement": None`). Times as for the other backends: end to end (decode,
    resize, preprocess, run) for one photo, infer for its array, and batches of 16 photos."""
    from PIL import Image

    from plugin.engine.inference.onnx import OnnxRunner, calibration, int8
    from plugin.engine.inference.prepared import load_registry_model, prepare_batch
    from plugin.engine.models.registry import get_spec
    from plugin.engine.study.labels import verdict_labels

    spec = get_spec(name)
    if weights == "imagenet":
        prepared = load_registry_model(name, weights, "onnx", "int8", verdicts=verdict_labels)
        runner, agreement, kept = prepared.runner, prepared.int8_agreement, prepared.precision == "int8"
    else:
        target = bench_folder() / f"{fp32.stem}-int8-unchecked.onnx"
        if not target.is_file():
            int8.quantize_unchecked(name, fp32, target, calibration.calibration_batch(spec))
        runner, agreement, kept = OnnxRunner(target), None, True
    photo = Image.open(io.BytesIO(jpeg)).convert("RGB")
    model = load_registry_model(name, weights, "onnx")  # the float32 one, for its input size and preprocessing

    def end_to_end():
        runner(prepare_batch([Image.open(io.BytesIO(jpeg))], model))

    array = prepare_batch([photo], model)
    runner(array)
    figures = {"kept": kept, "agreement": agreement, "infer_ms": round(median_ms(lambda: runner(array), runs), 2)}
    end = median_ms(end_to_end, runs)
    figures |= {"end_to_end_ms": round(end, 2), "of_predict": round(end / predict_ms, 3)}
    if batches:  # as a classify_images call of 16 photos: decoded, resized and preprocessed, then one run
        def sixteen():
            runner(prepare_batch([Image.open(io.BytesIO(jpeg)) for _ in range(BATCH_CALL)], model))

        sixteen()
        figures["batch16_images_per_s"] = round(BATCH_CALL * 1000.0 / median_ms(sixteen, max(2, runs // 4)), 1)
    return figures


def _backend_figures(name: str, weights: str, backend: str, jpeg: bytes, array, predict_ms: float, peak_gflops: float,
                     runs: int, batches: bool) -> dict:
    from plugin.api import classify_image, classify_images
    from plugin.engine.inference.prepared import load_registry_model
    from plugin.engine.models.registry import get_spec

    prepared = load_registry_model(name, weights, backend)
    options = {"models": [name], "weights": weights, "backend": backend, "top_k": 5}
    answered = classify_image(jpeg, **options)["results"][0]["backend"]
    assert answered == backend, f"{backend} was asked for, {answered} answered"
    end_to_end = median_ms(lambda: classify_image(jpeg, **options), runs)
    infer = median_ms(lambda: prepared.runner(array), runs)
    figures = {"end_to_end_ms": round(end_to_end, 2), "of_predict": round(end_to_end / predict_ms, 3), "infer_ms": round(infer, 2)}
    if not batches:
        return figures

    def one_call():
        classify_images([jpeg] * BATCH_CALL, **options)

    one_call()
    single = median_ms(one_call, max(2, runs // 4))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        four = median_ms(lambda: list(pool.map(lambda _: one_call(), range(4))), max(2, runs // 5))
    macs = get_spec(name).published.multiply_adds
    for images, ms in ((BATCH_CALL, single), (4 * BATCH_CALL, four)):
        rate = images * 1000.0 / ms
        figures[f"batch{images}_images_per_s"] = round(rate, 1)
        figures[f"batch{images}_of_peak"] = round(2 * macs * rate / (peak_gflops * 1e9), 3) if macs else None
    return figures


def example_jpeg() -> bytes:
    """The bundled dog photo (a JPEG), as a caller would upload it."""
    from plugin.config import EXAMPLES_DIR

    return Path(EXAMPLES_DIR / "dog_bicycle.jpg").read_bytes()
