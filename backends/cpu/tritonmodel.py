"""The common shape of FaceScope's Triton python-backend models: one input batch in, named outputs out.

Imported only inside Triton's python backend stub, which provides triton_python_backend_utils.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt
import triton_python_backend_utils as pb_utils


class BatchModel(ABC):
    """A model with one input tensor: each request's batch is computed on its own.

    Subclasses set INPUT and implement load() and infer(). A request that fails gets an error
    response with the exception's message; the other requests of the same execution still succeed.
    """

    INPUT: str

    def initialize(self, args: dict[str, Any]) -> None:
        """Called once by Triton when the model instance starts."""
        self.load()

    @abstractmethod
    def load(self) -> None:
        """Loads the dlib models."""

    @abstractmethod
    def infer(self, batch: npt.NDArray[Any]) -> dict[str, npt.NDArray[np.float32]]:
        """Computes the outputs, by name, of a batch of the input tensor [N, ...]."""

    def execute(self, requests: list[Any]) -> list[Any]:
        """Called by Triton with the requests the dynamic batcher gathered."""
        responses = []
        for request in requests:
            try:
                batch = pb_utils.get_input_tensor_by_name(request, self.INPUT).as_numpy()
                outputs = self.infer(batch)
                tensors = [pb_utils.Tensor(name, np.ascontiguousarray(value)) for name, value in outputs.items()]
                responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            except Exception as error:  # noqa: BLE001 - reported to the client, not raised into Triton
                message = f"{type(error).__name__}: {error}"
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message)))
        return responses
