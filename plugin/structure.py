"""The structure table students write by hand: each kind of layer, how many, at which shapes, and
what it is for, in Korean and English."""

from __future__ import annotations

import collections

from plugin.layers import LayerFacts

__all__ = ["structure_table", "KINDS"]

# (kind, layer types, English label, Korean label, English role, Korean role), in table order.
KINDS = (
    ("input", ("InputLayer",), "Input", "입력",
     "Receives the image as height x width x channels.", "이미지를 높이 x 너비 x 채널 형태로 받습니다."),
    ("preprocessing", ("Rescaling", "Normalization"), "Preprocessing in the model", "모델 안의 전처리",
     "Scales and normalises pixel values inside the model.", "모델 안에서 픽셀 값을 스케일링하고 정규화합니다."),
    ("convolution", ("Conv1D", "Conv2D", "Conv3D"), "Convolution", "합성곱(Conv)",
     "Slides learned filters over the image to detect local patterns (edges, textures, parts); "
     "stacked, they see ever larger regions.",
     "학습된 필터를 이미지 위로 밀며 지역 패턴(모서리, 질감, 부분)을 찾습니다. 층을 쌓을수록 더 넓은 영역을 봅니다."),
    ("depthwise", ("DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D", "SeparableConv1D"),
     "Depthwise / separable convolution", "깊이별(depthwise) 합성곱",
     "Filters each channel on its own, then mixes channels with 1x1 convolutions: far fewer "
     "multiply-adds than a full convolution.",
     "채널마다 따로 필터를 적용한 뒤 1x1 합성곱으로 채널을 섞습니다. 일반 합성곱보다 곱셈-덧셈이 훨씬 적습니다."),
    ("normalization", ("BatchNormalization", "LayerNormalization", "GroupNormalization"), "Normalisation", "정규화",
     "Normalises activations so deep networks train fast and stably.", "활성값을 정규화해 깊은 신경망이 빠르고 안정적으로 학습되게 합니다."),
    ("activation", ("Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"), "Activation", "활성화 함수",
     "Adds non-linearity (ReLU, swish, GELU...), without which stacked layers would collapse into one.",
     "비선형성(ReLU, swish, GELU 등)을 더합니다. 이것이 없으면 여러 층이 하나의 선형 층과 같아집니다."),
    ("pooling", ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"), "Pooling", "풀링",
     "Shrinks feature maps (downsampling), keeping the strongest or the average response.",
     "특징 맵을 줄입니다(다운샘플링). 가장 강한 값이나 평균을 남깁니다."),
    ("merge", ("Add", "Concatenate", "Multiply", "Subtract", "Average", "Maximum"), "Merge (add / concatenate)", "합치기(덧셈/연결)",
     "Joins branches: residual additions (ResNet), concatenations (Inception, DenseNet), channel scaling (SE blocks).",
     "갈래를 합칩니다: 잔차 덧셈(ResNet), 연결(Inception, DenseNet), 채널 가중(SE 블록)."),
    ("padding", ("ZeroPadding1D", "ZeroPadding2D"), "Zero padding", "제로 패딩",
     "Adds zeros around feature maps so the next convolution or pooling gets the size it needs.",
     "특징 맵 둘레에 0을 채워 다음 합성곱이나 풀링이 필요한 크기를 갖게 합니다."),
    ("flatten", ("Flatten", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"),
     "Flatten / global pooling", "평탄화 / 전역 풀링",
     "Turns the 3-D feature map into one vector for the classifier.", "3차원 특징 맵을 분류기에 넣을 하나의 벡터로 바꿉니다."),
    ("dense", ("Dense",), "Dense (fully connected)", "완전연결(Dense)",
     "Combines every feature with every other to reach a decision.", "모든 특징을 서로 결합해 판단을 만듭니다."),
    ("dropout", ("Dropout", "SpatialDropout2D"), "Dropout", "드롭아웃",
     "Randomly silences units while training to reduce overfitting; does nothing at inference.",
     "학습 중 무작위로 뉴런을 꺼서 과적합을 줄입니다. 추론할 때는 아무 일도 하지 않습니다."),
    ("reshape", ("Reshape", "Permute", "Identity"), "Reshape", "형태 바꾸기",
     "Changes a tensor's shape without changing its values.", "값은 그대로 두고 텐서의 형태만 바꿉니다."),
    ("block", ("Sequential", "Functional", "LayerScale"), "Sub-model / scaling block", "하위 모델 / 스케일 블록",
     "A group of layers used as one (a stem or downsampling block), or a learned per-channel scale.",
     "여러 층을 하나처럼 쓰는 묶음(stem, 다운샘플링 블록) 또는 학습되는 채널별 배율입니다."),
    ("output", (), "Output", "출력",
     "Gives one probability per class.", "클래스마다 확률 하나를 냅니다."),
    ("other", (), "Other", "기타", "Other layers.", "그 밖의 층입니다."),
)

_KIND_OF = {layer_type: kind for kind, types, *_ in KINDS for layer_type in types}


def _shape_text(shape) -> str:
    if not shape or isinstance(shape[0], list):
        return "?"
    return "x".join("?" if d is None else str(d) for d in shape[1:])


def structure_table(rows: list[LayerFacts]) -> list[dict]:
    """Summarise layer rows (top level) by kind, in the order a student writes them.

    Returns:
        `[{"kind", "label": {"en", "ko"}, "count", "shapes", "details", "role": {"en", "ko"}}]`:
        `shapes` is the first and last output shape ("224x224x64 -> 7x7x512"), `details` the kernels
        or units by frequency.
    """
    groups: dict[str, list[LayerFacts]] = collections.OrderedDict()
    body = list(rows)
    output = body.pop() if body and body[-1].type in ("Dense", "Activation", "Softmax") else None
    for row in body:
        groups.setdefault(_KIND_OF.get(row.type, "other"), []).append(row)
    if output:
        groups["output"] = [output]
    table = []
    for kind, _types, label_en, label_ko, role_en, role_ko in KINDS:
        members = groups.get(kind)
        if not members:
            continue
        first, last = _shape_text(members[0].output_shape), _shape_text(members[-1].output_shape)
        details = collections.Counter(row.kernel or row.activation or row.type for row in members)
        if kind == "output":
            role_en = f"Gives one score per class: {last} classes" + (f", {output.activation}" if output.activation else "") + "."
            role_ko = f"클래스마다 점수 하나를 냅니다: {last}개 클래스" + (f", {output.activation}" if output.activation else "") + "."
        table.append({
            "kind": kind,
            "label": {"en": label_en, "ko": label_ko},
            "count": len(members),
            "shapes": first if first == last else f"{first} -> {last}",
            "details": ", ".join(f"{text} (x{n})" if n > 1 else text for text, n in details.most_common(6)),
            "role": {"en": role_en, "ko": role_ko},
        })
    return table
