"""FaceNet's DetectNet_v2 "GridBox" output format: encode face boxes into it and decode them back.

The network frame is 736x416 pixels, covered by a 26x46 grid of 16x16 cells. For the cell at
row r, column c with raw box outputs t0..t3 the decoded box (in network pixels) is

    x1 = 16c + 0.5 - 35*t0    y1 = 16r + 0.5 - 35*t1
    x2 = 16c + 0.5 + 35*t2    y2 = 16r + 0.5 + 35*t3    score = cov[0][r][c]

clipped to the frame. `encode` writes each face into one cell so that `decode` (threshold 0.2,
greedy NMS at IoU 0.5, top-k 20: NVIDIA's Triton clustering settings) recovers it exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

NET_WIDTH = 736
NET_HEIGHT = 416
GRID_ROWS = 26
GRID_COLS = 46
STRIDE = 16
CELL_OFFSET = 0.5
BOX_NORM = 35.0

COVERAGE_THRESHOLD = 0.2
NMS_IOU_THRESHOLD = 0.5
TOP_K = 20


def clip_boxes(boxes: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Clips boxes [K,4] (x1, y1, x2, y2) to the 736x416 network frame."""
    clipped = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    clipped[:, 0::2] = np.clip(clipped[:, 0::2], 0.0, NET_WIDTH)
    clipped[:, 1::2] = np.clip(clipped[:, 1::2], 0.0, NET_HEIGHT)
    return clipped


def _home_cell(box: npt.NDArray[np.float64]) -> tuple[int, int]:
    """The (row, column) of the cell that contains the box centre, clamped to the grid."""
    cx = (box[0] + box[2]) / 2.0
    cy = (box[1] + box[3]) / 2.0
    row = min(max(int(np.floor(cy / STRIDE)), 0), GRID_ROWS - 1)
    col = min(max(int(np.floor(cx / STRIDE)), 0), GRID_COLS - 1)
    return row, col


def encode(boxes: npt.ArrayLike, coverages: npt.ArrayLike) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Encodes faces into FaceNet's output tensors.

    Args:
        boxes: [K,4] boxes (x1, y1, x2, y2) in network pixels, already clipped to the frame.
        coverages: [K] scores in (0.2, 1], written as the coverage of the face's cell.

    Returns:
        (cov [1,26,46], bbox [4,26,46]), both float32. Each face takes the cell holding its box
        centre, or the nearest free cell when a stronger face already took that one; every
        other cell has coverage 0.

    Raises:
        ValueError: on mismatched inputs, or more faces than grid cells.
    """
    box_array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    score_array = np.asarray(coverages, dtype=np.float64).reshape(-1)
    if len(box_array) != len(score_array):
        raise ValueError(f"{len(box_array)} boxes but {len(score_array)} coverages")
    if len(box_array) > GRID_ROWS * GRID_COLS:
        raise ValueError(f"{len(box_array)} faces do not fit in {GRID_ROWS * GRID_COLS} cells")

    cov = np.zeros((1, GRID_ROWS, GRID_COLS), dtype=np.float32)
    bbox = np.zeros((4, GRID_ROWS, GRID_COLS), dtype=np.float32)
    used = np.zeros((GRID_ROWS, GRID_COLS), dtype=bool)
    rows, cols = np.mgrid[0:GRID_ROWS, 0:GRID_COLS]
    for index in np.argsort(-score_array, kind="stable"):
        box = box_array[index]
        row, col = _home_cell(box)
        if used[row, col]:
            distance = ((rows - row) ** 2 + (cols - col) ** 2).astype(np.float64)
            distance[used] = np.inf
            row, col = (int(index) for index in np.unravel_index(int(np.argmin(distance)), used.shape))
        used[row, col] = True
        anchor_x = STRIDE * col + CELL_OFFSET
        anchor_y = STRIDE * row + CELL_OFFSET
        bbox[:, row, col] = (
            (anchor_x - box[0]) / BOX_NORM,
            (anchor_y - box[1]) / BOX_NORM,
            (box[2] - anchor_x) / BOX_NORM,
            (box[3] - anchor_y) / BOX_NORM,
        )
        cov[0, row, col] = score_array[index]
    return cov, bbox


def _iou(box: npt.NDArray[np.float64], others: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Intersection over union of one box [4] with each of others [K,4]."""
    width = np.clip(np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]), 0.0, None)
    height = np.clip(np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]), 0.0, None)
    intersection = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    other_areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + other_areas - intersection
    iou: npt.NDArray[np.float64] = np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)
    return iou


def decode(
    cov: npt.ArrayLike,
    bbox: npt.ArrayLike,
    threshold: float = COVERAGE_THRESHOLD,
    iou_threshold: float = NMS_IOU_THRESHOLD,
    top_k: int = TOP_K,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Decodes FaceNet's output tensors of one image into faces.

    Args:
        cov: [1,26,46] coverage.
        bbox: [4,26,46] raw box outputs.
        threshold: minimum coverage of a candidate cell.
        iou_threshold: a candidate overlapping a kept face by more than this is dropped.
        top_k: at most this many faces are kept.

    Returns:
        (boxes [K,4] as x1, y1, x2, y2 in network pixels clipped to the frame, scores [K]),
        strongest first.
    """
    coverage = np.asarray(cov, dtype=np.float32).reshape(GRID_ROWS, GRID_COLS)
    raw = np.asarray(bbox, dtype=np.float32).reshape(4, GRID_ROWS, GRID_COLS)
    rows, cols = np.nonzero(coverage >= threshold)
    scores = coverage[rows, cols].astype(np.float64)
    anchor_x = STRIDE * cols + CELL_OFFSET
    anchor_y = STRIDE * rows + CELL_OFFSET
    t = raw[:, rows, cols].astype(np.float64)
    candidates = clip_boxes(
        np.stack(
            [
                anchor_x - BOX_NORM * t[0],
                anchor_y - BOX_NORM * t[1],
                anchor_x + BOX_NORM * t[2],
                anchor_y + BOX_NORM * t[3],
            ],
            axis=1,
        )
    )
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for index in order:
        if len(kept) == top_k:
            break
        if kept and np.any(_iou(candidates[index], candidates[kept]) > iou_threshold):
            continue
        kept.append(int(index))
    return candidates[kept].reshape(-1, 4), scores[kept]
