"""An ONNX graph indexed for walking it: which node makes each tensor, which nodes read it, and which
tensors are constants (the weights). What the int8 recipe's pad folding and the linear-head reader
both walk."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["GraphIndex"]


@dataclasses.dataclass(frozen=True)
class GraphIndex:
    """`producers[tensor]` (the node that outputs it), `consumers[tensor]` (the nodes that read it, in
    the graph's order) and `constants[name]` (the initializers)."""

    producers: dict[str, Any]
    consumers: dict[str, list]
    constants: dict[str, Any]

    @classmethod
    def of(cls, graph: Any) -> GraphIndex:
        consumers: dict[str, list] = {}
        for node in graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        return cls(producers={output: node for node in graph.node for output in node.output}, consumers=consumers,
                   constants={tensor.name: tensor for tensor in graph.initializer})
