"""The inference runtime of the transformer classifiers: torch, or ONNX Runtime.

:func:`serving_forward` turns a torch model and a forward function (``batch -> tensor``)
into the callable that scores batches. With ``runtime="onnxruntime"`` the forward is
exported to ONNX in memory once per process (a few seconds: the TorchScript exporter, which
records one trace with dynamic batch and sequence axes), optionally int8-quantized by ONNX
Runtime's dynamic quantizer, and run by an ONNX Runtime session. The exported graph gives
the torch forward's outputs to float precision (tests/test_runtime.py checks it).

onnx and onnxruntime are imported inside the functions, so importing this module stays fast.
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from pipeline.classifiers.torch_utils import quantize_int8
from pipeline.errors import ModelError, first_line

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

Runtime = Literal["torch", "onnxruntime"]
Batch = dict[str, "torch.Tensor"]
Forward = Callable[["torch.nn.Module", Batch], "torch.Tensor"]
INPUTS = ("input_ids", "attention_mask")


def serving_forward(
    model: "torch.nn.Module", forward: Forward, example: Batch, *, runtime: Runtime, quantize: bool, num_threads: int | None
) -> Callable[[Batch], "torch.Tensor"]:
    """The batch scorer for ``forward(model, batch)`` on ``runtime``.

    ``example``: a small padded batch (``input_ids``, ``attention_mask``) to trace the export
    with; its rows should differ in length so that the mask's use is recorded.
    """
    if runtime == "torch":
        served = quantize_int8(model) if quantize else model
        return lambda batch: forward(served, batch)
    return OnnxForward(model, forward, example, quantize=quantize, num_threads=num_threads)


def traceable(model: "torch.nn.Module", forward: Forward) -> "torch.nn.Module":
    """``forward(model, ·)`` as a Module with positional ``(input_ids, attention_mask)``: what
    the exporter traces. In eval mode: the exporter restores the wrapper's own training flag
    afterwards, recursively, and a fresh Module is in training mode (dropout on)."""
    import torch

    class Traceable(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids: "torch.Tensor", attention_mask: "torch.Tensor") -> "torch.Tensor":
            return forward(self.inner, {"input_ids": input_ids, "attention_mask": attention_mask})

    return Traceable().eval()


def example_batch(tokenizer) -> Batch:  # noqa: ANN001 (a transformers tokenizer)
    """A two-row padded batch of unequal lengths to trace an export with."""
    encoded = tokenizer(
        ["A short example.", "A somewhat longer example sentence, traced with padding."], padding=True, return_tensors="pt"
    )
    return {name: encoded[name] for name in INPUTS}


def export_onnx(model: "torch.nn.Module", forward: Forward, example: Batch, path: Path) -> None:
    """Write ``forward(model, ·)`` to ``path`` as ONNX with dynamic batch and sequence axes."""
    import torch

    traced = traceable(model, forward)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "output": {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on Python-side shape checks; the test compares outputs
        torch.onnx.export(
            traced,
            tuple(example[name] for name in INPUTS),
            str(path),
            input_names=list(INPUTS),
            output_names=["output"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class OnnxForward:
    """An ONNX Runtime session over the exported forward; called like the torch forward."""

    def __init__(
        self, model: "torch.nn.Module", forward: Forward, example: Batch, *, quantize: bool, num_threads: int | None
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError:  # a declared dependency: only a broken install lacks it
            raise ModelError(
                "runtime 'onnxruntime' needs the onnxruntime and onnx packages (pip install onnxruntime onnx)"
            ) from None
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="stance-onnx-") as tmp:
            path = Path(tmp) / "model.onnx"
            try:
                export_onnx(model, forward, example, path)
                if quantize:
                    path = quantize_onnx(path, Path(tmp) / "model.int8.onnx")
            except Exception as exc:  # noqa: BLE001 (exporter errors come from many layers)
                raise ModelError(
                    f"cannot export the model to ONNX ({first_line(exc, 300)}); set runtime: torch to serve it with torch"
                ) from None
            options = ort.SessionOptions()
            options.intra_op_num_threads = num_threads or 0  # 0: ONNX Runtime's default (the core count)
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        log.info("ONNX Runtime session ready in %.1fs%s", time.perf_counter() - started, " (int8)" if quantize else "")

    def __call__(self, batch: Batch) -> "torch.Tensor":
        import torch

        feeds = {name: batch[name].numpy() for name in INPUTS}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def quantize_onnx(source: Path, target: Path) -> Path:
    """ONNX Runtime's dynamic int8 quantization (weights int8, activations quantized on the fly)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantizer logs a line per tensor and a pre-processing hint to the root logger
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8)
    finally:
        logging.disable(previous)
    return target
