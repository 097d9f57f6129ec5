"""Independent pure-numpy EfficientNet-Lite forward pass, straight from the state dict.

Nothing here imports Keras or :mod:`efficientnet_lite`: the block layout is
decoded from the TF block strings of ``efficientnet_lite_builder.py`` with the
TF ``round_repeats`` / ``fix_head_stem`` rules, channel counts and kernel sizes
are read from the tensor shapes, and padding is TF-"same" computed by hand.
Everything runs in float64 so it can serve as ground truth for the Keras model.

* 1x1 convs: one matmul over (pixels, channels);
* stem 3x3/2 conv: im2col with ``sliding_window_view`` + matmul;
* depthwise convs: ``sliding_window_view`` over the padded map, strided, then a
  per-channel multiply-accumulate over the kh x kw window taps.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BN_EPS = 1e-3

# tensorflow/tpu models/official/efficientnet/lite/efficientnet_lite_builder.py
# (_DEFAULT_BLOCKS_ARGS without the se0.25 suffix, use_se=False).
TF_BLOCK_STRINGS = [
    "r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24", "r2_k5_s22_e6_i24_o40",
    "r3_k3_s22_e6_i40_o80", "r3_k5_s11_e6_i80_o112", "r4_k5_s22_e6_i112_o192",
    "r1_k3_s11_e6_i192_o320",
]

# (width, depth, resolution) from efficientnet_lite_params.
PARAMS = {"lite0": (1.0, 1.0, 224), "lite1": (1.0, 1.1, 240), "lite2": (1.1, 1.2, 260)}


def _decode(s):
    opts = {p[0]: p[1:] for p in s.split("_")}
    return int(opts["r"]), int(opts["k"]), int(opts["s"][0]), int(opts["e"])


def block_layout(variant):
    """[(kernel, stride, expand)] per block, first/last group not deepened."""
    _, depth, _ = PARAMS[variant]
    out = []
    for i, s in enumerate(TF_BLOCK_STRINGS):
        r, k, st, e = _decode(s)
        if i not in (0, len(TF_BLOCK_STRINGS) - 1):
            r = int(math.ceil(depth * r))
        for j in range(r):
            out.append((k, st if j == 0 else 1, e))
    return out


def _same_pad(x, k, s):
    """TF 'SAME' zero padding of an HWC map (extra pixel after, not before)."""
    h, w, _ = x.shape
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))


def conv2d(x, w, stride):
    """x (H, W, Cin), torch weight (Cout, Cin, k, k) -> (Ho, Wo, Cout)."""
    cout, cin, k, _ = w.shape
    if k == 1 and stride == 1:
        h, wd, _ = x.shape
        return (x.reshape(-1, cin) @ w.reshape(cout, cin).T).reshape(h, wd, cout)
    xp = _same_pad(x, k, stride)
    win = sliding_window_view(xp, (k, k), axis=(0, 1))[::stride, ::stride]  # Ho,Wo,Cin,k,k
    ho, wo = win.shape[:2]
    cols = win.reshape(ho * wo, cin * k * k)  # im2col (copies once)
    return (cols @ w.reshape(cout, cin * k * k).T).reshape(ho, wo, cout)


def depthwise(x, w, stride):
    """x (H, W, C), torch weight (C, 1, k, k) -> (Ho, Wo, C)."""
    c, _, k, _ = w.shape
    xp = _same_pad(x, k, stride)
    win = sliding_window_view(xp, (k, k), axis=(0, 1))[::stride, ::stride]  # Ho,Wo,C,k,k
    out = np.zeros(win.shape[:3], dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            out += win[:, :, :, i, j] * w[:, 0, i, j]
    return out


def bn(x, sd, p):
    g, b = sd[f"{p}.weight"], sd[f"{p}.bias"]
    m, v = sd[f"{p}.running_mean"], sd[f"{p}.running_var"]
    return (x - m) / np.sqrt(v + BN_EPS) * g + b


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def forward(state_dict, image, variant, *, return_logits=False):
    """image: (H, W, 3) preprocessed float -> probabilities (1000,) (or logits)."""
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in state_dict.items()
          if not k.endswith("num_batches_tracked")}
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError("one image at a time")
        x = x[0]
    used = set()

    def get(key):
        used.add(key)
        return sd[key]

    def bn_used(x, p):
        for s in ("weight", "bias", "running_mean", "running_var"):
            used.add(f"{p}.{s}")
        return bn(x, sd, p)

    x = relu6(bn_used(conv2d(x, get("_conv_stem.weight"), 2), "_bn0"))
    layout = block_layout(variant)
    n_blocks = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("_blocks."))
    if n_blocks != len(layout):
        raise ValueError(f"state dict has {n_blocks} blocks, layout {len(layout)}")
    for idx, (k, stride, expand) in enumerate(layout):
        p = f"_blocks.{idx}"
        inp = x
        has_expand = f"{p}._expand_conv.weight" in sd
        if has_expand != (expand != 1):
            raise ValueError(f"block {idx}: expand conv presence mismatch")
        if has_expand:
            x = relu6(bn_used(conv2d(x, get(f"{p}._expand_conv.weight"), 1), f"{p}._bn0"))
        dw = get(f"{p}._depthwise_conv.weight")
        if dw.shape[2] != k:
            raise ValueError(f"block {idx}: kernel {dw.shape[2]} != layout {k}")
        x = relu6(bn_used(depthwise(x, dw, stride), f"{p}._bn1"))
        x = bn_used(conv2d(x, get(f"{p}._project_conv.weight"), 1), f"{p}._bn2")
        if stride == 1 and inp.shape[-1] == x.shape[-1]:
            x = x + inp
    x = relu6(bn_used(conv2d(x, get("_conv_head.weight"), 1), "_bn1"))
    feat = x.mean(axis=(0, 1))
    logits = get("_fc.weight") @ feat + get("_fc.bias")
    left = set(sd) - used
    if left:
        raise ValueError(f"unused tensors: {sorted(left)}")
    if return_logits:
        return logits
    e = np.exp(logits - logits.max())
    return e / e.sum()
