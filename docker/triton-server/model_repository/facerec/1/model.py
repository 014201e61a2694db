"""Triton model `facerec` on the GPU server: the CPU backend's model, unchanged.

dlib's ResNet face descriptor has no TensorRT engine on NGC, so the GPU server runs the same
python-backend model as backends/cpu (dlib on the CPU). The server image installs that code in
/opt/facescope/backends/cpu (FACESCOPE_CPU_BACKEND overrides the folder); this file only loads it,
so both servers compute descriptors with one implementation.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

CPU_BACKEND = Path(os.environ.get("FACESCOPE_CPU_BACKEND", "/opt/facescope/backends/cpu"))
_MODEL = CPU_BACKEND / "model_repository" / "facerec" / "1" / "model.py"

_spec = importlib.util.spec_from_file_location("facescope_cpu_facerec", _MODEL)
if _spec is None or _spec.loader is None:
    raise ImportError(f"the CPU backend's facerec model is missing: {_MODEL}")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

TritonPythonModel = _module.TritonPythonModel
