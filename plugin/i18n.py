"""Every fixed word of the reports, in Korean and English, and the study notes on each family."""

from __future__ import annotations

import os

from plugin.errors import InvalidInputError

__all__ = ["LANGUAGES", "TEXT", "STUDY_NOTES", "check_lang", "default_lang", "texts"]

LANGUAGES = ("ko", "en")

TEXT = {
    "en": {
        "architecture_title": "{model}: architecture",
        "classification_title": "Classification of {image}",
        "comparison_title": "Comparing {models}",
        "index_title": "CNN Study Lab reports",
        "generated": "Made with CNN Study Lab on {date}",
        "facts": "Key figures",
        "params": "Parameters",
        "trainable": "trainable",
        "macs": "Multiply-adds (MACs)",
        "flops": "FLOPs (2 x MACs)",
        "depth": "Depth (layers with weights)",
        "num_layers": "Keras layers",
        "size": "Size (float32)",
        "published": "Published figures",
        "top1": "Top-1 accuracy",
        "top5": "Top-5 accuracy",
        "source": "Source",
        "paper": "Paper",
        "paper_macs": "Paper's multiply-adds",
        "preprocessing": "Preprocessing",
        "mode": "Mode",
        "input_size": "Input size",
        "channel_order": "Channel order",
        "value_range": "Value range",
        "function": "Keras function",
        "what_it_does": "What it does",
        "stages": "Stages (as the paper groups them)",
        "stage": "Stage",
        "output_size": "Output size",
        "blocks": "Blocks",
        "layout": "Layout",
        "structure": "Structure table",
        "kind": "Kind",
        "count": "Count",
        "shapes": "Shapes",
        "details": "Details",
        "role": "Role",
        "diagram": "Diagram (plot_model)",
        "diagram_hint": "Drawn by keras.utils.model_to_dot and Graphviz, with shapes. Scroll inside the box to see it all.",
        "layers": "All layers ({count})",
        "layer": "Layer",
        "type": "Type",
        "output_shape": "Output shape",
        "connected_to": "Connected to",
        "study_note": "Study note: the ideas behind it",
        "macs_note": "How multiply-adds are counted",
        "image": "Image",
        "predictions": "Predictions",
        "rank": "#",
        "class": "Class",
        "probability": "Probability",
        "verdict": "Dog or cat?",
        "dog": "dog",
        "cat": "cat",
        "other": "other",
        "agreement": "Do the models agree?",
        "agree": "The models agree ({basis}).",
        "disagree": "The models disagree ({basis}).",
        "single": "Only one model was run.",
        "basis_verdict": "on the dog/cat verdict",
        "basis_top1": "on the top-1 class",
        "weights": "Weights",
        "inference": "Inference time",
        "untrained_warning": "{model} ran with random weights (untrained): its predictions mean nothing. "
                             "Use them only to check the pipeline.",
        "model": "Model",
        "comparison": "Side by side",
        "chart_params": "Parameters (millions)",
        "chart_macs": "Multiply-adds (billions)",
        "chart_top1": "Published top-1 accuracy (%)",
        "chart_time": "Inference time measured here (ms per image)",
        "chart_scatter": "Accuracy against multiply-adds (circle area: parameters)",
        "timing_note": "Times: median of {runs} runs of one image on {machine}.",
        "reports": "Reports",
        "made": "Made",
        "language": "Language",
        "none": "-",
        "untrained": "untrained",
    },
    "ko": {
        "architecture_title": "{model} 구조 분석",
        "classification_title": "{image} 분류 결과",
        "comparison_title": "{models} 비교",
        "index_title": "CNN Study Lab 보고서 목록",
        "generated": "CNN Study Lab으로 {date}에 만들었습니다",
        "facts": "핵심 수치",
        "params": "파라미터 수",
        "trainable": "학습 가능",
        "macs": "곱셈-덧셈 수 (MACs)",
        "flops": "FLOPs (MACs의 2배)",
        "depth": "깊이 (가중치가 있는 층)",
        "num_layers": "Keras 층 수",
        "size": "크기 (float32)",
        "published": "논문·공식 수치",
        "top1": "Top-1 정확도",
        "top5": "Top-5 정확도",
        "source": "출처",
        "paper": "논문",
        "paper_macs": "논문의 곱셈-덧셈 수",
        "preprocessing": "전처리",
        "mode": "방식",
        "input_size": "입력 크기",
        "channel_order": "채널 순서",
        "value_range": "값 범위",
        "function": "Keras 함수",
        "what_it_does": "하는 일",
        "stages": "단계별 구성 (논문의 구분)",
        "stage": "단계",
        "output_size": "출력 크기",
        "blocks": "블록 수",
        "layout": "구성",
        "structure": "구조 표",
        "kind": "종류",
        "count": "개수",
        "shapes": "형태",
        "details": "세부",
        "role": "역할",
        "diagram": "구조도 (plot_model)",
        "diagram_hint": "keras.utils.model_to_dot과 Graphviz로 그렸습니다 (형태 포함). 상자 안에서 스크롤하면 전체를 볼 수 있습니다.",
        "layers": "전체 층 ({count}개)",
        "layer": "층",
        "type": "종류",
        "output_shape": "출력 형태",
        "connected_to": "연결된 층",
        "study_note": "스터디 노트: 핵심 아이디어",
        "macs_note": "곱셈-덧셈 수를 세는 방법",
        "image": "이미지",
        "predictions": "예측",
        "rank": "순위",
        "class": "클래스",
        "probability": "확률",
        "verdict": "개일까 고양이일까?",
        "dog": "개",
        "cat": "고양이",
        "other": "기타",
        "agreement": "모델들의 판단이 같은가요?",
        "agree": "모델들의 판단이 같습니다 ({basis}).",
        "disagree": "모델들의 판단이 다릅니다 ({basis}).",
        "single": "모델 하나만 실행했습니다.",
        "basis_verdict": "개/고양이 판정 기준",
        "basis_top1": "1위 클래스 기준",
        "weights": "가중치",
        "inference": "추론 시간",
        "untrained_warning": "{model}은(는) 무작위 가중치(학습 안 됨)로 실행했습니다. 예측에는 의미가 없으며 "
                             "파이프라인 확인용으로만 쓰세요.",
        "model": "모델",
        "comparison": "나란히 비교",
        "chart_params": "파라미터 수 (백만)",
        "chart_macs": "곱셈-덧셈 수 (십억)",
        "chart_top1": "공식 Top-1 정확도 (%)",
        "chart_time": "여기서 잰 추론 시간 (이미지당 ms)",
        "chart_scatter": "곱셈-덧셈 수에 따른 정확도 (원 넓이: 파라미터 수)",
        "timing_note": "시간: {machine}에서 이미지 한 장을 {runs}번 실행한 중앙값.",
        "reports": "보고서",
        "made": "만든 때",
        "language": "언어",
        "none": "-",
        "untrained": "학습 안 됨",
    },
}

STUDY_NOTES = {
    "VGG": {
        "en": ["Only 3x3 convolutions, stacked: two have the receptive field of one 5x5, three of one 7x7, "
               "with fewer parameters and more non-linearities.",
               "Five blocks, each ending in 2x2 max-pooling that halves the feature map while the channels double (64 to 512).",
               "The three dense layers at the end hold most of the parameters; the convolutions do most of the multiply-adds."],
        "ko": ["3x3 합성곱만 쌓습니다. 3x3 두 개는 5x5 하나, 세 개는 7x7 하나와 같은 수용 영역을 가지면서 "
               "파라미터는 더 적고 비선형성은 더 많습니다.",
               "다섯 블록은 각각 2x2 최대 풀링으로 끝나 특징 맵을 절반으로 줄이고, 채널은 64에서 512까지 두 배씩 늘어납니다.",
               "마지막 완전연결 세 층이 파라미터 대부분을 차지하고, 곱셈-덧셈은 대부분 합성곱에서 일어납니다."],
    },
    "ResNet": {
        "en": ["Residual blocks add their input to their output (F(x) + x): the shortcut lets very deep networks "
               "train, solving the degradation problem.",
               "Bottleneck blocks: a 1x1 convolution reduces the channels, a 3x3 works on the small tensor, a 1x1 restores them.",
               "Batch normalisation after every convolution, and global average pooling instead of large dense layers."],
        "ko": ["잔차 블록은 입력을 출력에 더합니다(F(x) + x). 이 지름길 덕분에 아주 깊은 신경망도 학습되어 "
               "성능 저하(degradation) 문제를 풉니다.",
               "병목(bottleneck) 블록: 1x1 합성곱으로 채널을 줄이고, 작은 텐서에 3x3을 적용한 뒤, 1x1로 채널을 되돌립니다.",
               "모든 합성곱 뒤에 배치 정규화를 두고, 큰 완전연결 층 대신 전역 평균 풀링을 씁니다."],
    },
    "AlexNet": {
        "en": ["ReLU activations instead of tanh: training several times faster.",
               "Dropout (0.5) in the first two dense layers to fight overfitting.",
               "Overlapping 3x3 max-pooling with stride 2; trained on two GPUs with heavy data augmentation."],
        "ko": ["tanh 대신 ReLU 활성화 함수: 학습이 몇 배 빨라집니다.",
               "처음 두 완전연결 층에 드롭아웃(0.5)을 써서 과적합을 막습니다.",
               "겹치는 3x3 최대 풀링(stride 2). GPU 두 장과 강한 데이터 증강으로 학습했습니다."],
    },
    "MobileNet": {
        "en": ["Depthwise separable convolutions: a 3x3 per channel, then a 1x1 to mix channels.",
               "Inverted residuals: expand the channels, filter, then project back to a narrow linear bottleneck."],
        "ko": ["깊이별 분리 합성곱: 채널마다 3x3을 적용한 뒤 1x1로 채널을 섞습니다.",
               "역잔차(inverted residual): 채널을 넓힌 뒤 필터링하고, 다시 좁은 선형 병목으로 투영합니다."],
    },
    "EfficientNet": {
        "en": ["Compound scaling: depth, width and resolution grow together by fixed ratios.",
               "MBConv blocks with squeeze-and-excitation, which reweights channels."],
        "ko": ["복합 스케일링: 깊이, 너비, 해상도를 정해진 비율로 함께 키웁니다.",
               "채널에 가중치를 다시 주는 squeeze-and-excitation이 들어간 MBConv 블록."],
    },
    "Inception": {
        "en": ["Inception modules run 1x1, 3x3 and 5x5 branches in parallel and concatenate them.",
               "Factorised convolutions (a 5x5 as two 3x3, a 7x7 as 1x7 then 7x1) save multiply-adds."],
        "ko": ["Inception 모듈은 1x1, 3x3, 5x5 갈래를 나란히 실행하고 이어 붙입니다.",
               "분해된 합성곱(5x5를 3x3 두 개로, 7x7을 1x7과 7x1로)으로 곱셈-덧셈을 줄입니다."],
    },
    "DenseNet": {
        "en": ["Each layer receives the concatenated outputs of all earlier layers in its dense block.",
               "Transition layers (1x1 convolution and 2x2 average pooling) shrink the maps between blocks."],
        "ko": ["각 층은 같은 밀집 블록 안의 앞선 모든 층 출력을 이어 붙여 입력으로 받습니다.",
               "전이 층(1x1 합성곱과 2x2 평균 풀링)이 블록 사이에서 특징 맵을 줄입니다."],
    },
    "ConvNeXt": {
        "en": ["A ResNet modernised with ideas from vision transformers: 7x7 depthwise convolutions, LayerNorm, GELU.",
               "Inverted bottlenecks (the middle is four times wider) and a patchify stem (4x4, stride 4)."],
        "ko": ["비전 트랜스포머의 아이디어로 현대화한 ResNet: 7x7 깊이별 합성곱, LayerNorm, GELU.",
               "역병목(가운데가 네 배 넓음)과 패치화 stem(4x4, stride 4)."],
    },
    None: {
        "en": ["Read the stage table from top to bottom: the feature maps shrink while the channels grow.",
               "The structure table counts each kind of layer; the diagram shows how they connect."],
        "ko": ["단계 표를 위에서 아래로 읽어 보세요: 특징 맵은 작아지고 채널은 늘어납니다.",
               "구조 표는 층의 종류별 개수를, 구조도는 층이 어떻게 이어지는지를 보여 줍니다."],
    },
}
STUDY_NOTES["ResNet v2"] = STUDY_NOTES["ResNet"]


def default_lang() -> str:
    """The report language when none is given: CNNLAB_LANG, else Korean."""
    lang = os.environ.get("CNNLAB_LANG", "ko")
    return lang if lang in LANGUAGES else "ko"


def check_lang(lang) -> str:
    if lang is None:
        return default_lang()
    if lang not in LANGUAGES:
        raise InvalidInputError(f"Expected lang to be one of {list(LANGUAGES)}. Received: lang={lang!r}")
    return lang


def texts(lang: str) -> dict:
    return TEXT[check_lang(lang)]
