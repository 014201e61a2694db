"""Round-trip tests of the FaceNet grid encoding (grid.encode -> grid.decode)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import grid

SCENES = 5000
MAX_FACES = 20
TOLERANCE_PX = 1e-3


def _random_box(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """A box 20-400 px on each side inside the frame; one in four touches one or two frame edges."""
    width = rng.uniform(20.0, 400.0)
    height = rng.uniform(20.0, 400.0)
    x1 = rng.uniform(0.0, grid.NET_WIDTH - width)
    y1 = rng.uniform(0.0, grid.NET_HEIGHT - height)
    if rng.random() < 0.25:
        x1 = float(rng.choice([0.0, grid.NET_WIDTH - width]))
    if rng.random() < 0.25:
        y1 = float(rng.choice([0.0, grid.NET_HEIGHT - height]))
    box: npt.NDArray[np.float64] = np.array([x1, y1, x1 + width, y1 + height], dtype=np.float64)
    return box


def _box_around(rng: np.random.Generator, centre: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """A box 20-400 px on each side centred within a few pixels of centre, clipped to the frame."""
    width = rng.uniform(20.0, 400.0)
    height = rng.uniform(20.0, 400.0)
    cx, cy = centre + rng.uniform(-4.0, 4.0, size=2)
    box: npt.NDArray[np.float64] = grid.clip_boxes([cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2])[
        0
    ]
    return box


def _iou_matrix(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Pairwise IoU of boxes [K,4]."""
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    intersection = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou: npt.NDArray[np.float64] = intersection / (areas[:, None] + areas[None, :] - intersection)
    return iou


def _random_scene(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """0-20 boxes with pairwise IoU < 0.5; about a third are centred on an earlier box's centre."""
    target = int(rng.integers(0, MAX_FACES + 1))
    boxes: list[npt.NDArray[np.float64]] = []
    attempts = 0
    while len(boxes) < target and attempts < 50 * MAX_FACES:
        attempts += 1
        if boxes and rng.random() < 0.35:
            anchor = boxes[int(rng.integers(len(boxes)))]
            box = _box_around(rng, np.array([(anchor[0] + anchor[2]) / 2, (anchor[1] + anchor[3]) / 2]))
        else:
            box = _random_box(rng)
        if min(box[2] - box[0], box[3] - box[1]) < 1.0:
            continue
        if boxes and _iou_matrix(np.array([*boxes, box]))[-1, :-1].max() >= 0.5:
            continue
        boxes.append(box)
    return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def _home_cells(boxes: npt.NDArray[np.float64]) -> set[tuple[int, int]]:
    """The distinct centre cells of boxes."""
    rows = np.clip(np.floor((boxes[:, 1] + boxes[:, 3]) / 2 / grid.STRIDE), 0, grid.GRID_ROWS - 1)
    cols = np.clip(np.floor((boxes[:, 0] + boxes[:, 2]) / 2 / grid.STRIDE), 0, grid.GRID_COLS - 1)
    return set(zip(rows.astype(int).tolist(), cols.astype(int).tolist(), strict=True))


def test_round_trip_recovers_every_box() -> None:
    """Thousands of random scenes: decode(encode(faces)) returns exactly those faces."""
    rng = np.random.default_rng(20240611)
    faces_total = 0
    scenes_sharing_a_cell = 0
    edge_boxes = 0
    for _ in range(SCENES):
        boxes = _random_scene(rng)
        scores = rng.uniform(0.5, 1.0, size=len(boxes)).astype(np.float32)
        faces_total += len(boxes)
        scenes_sharing_a_cell += len(_home_cells(boxes)) < len(boxes)
        edge_boxes += int(
            np.sum(
                (boxes[:, 0] == 0)
                | (boxes[:, 1] == 0)
                | (boxes[:, 2] == grid.NET_WIDTH)
                | (boxes[:, 3] == grid.NET_HEIGHT)
            )
        )

        cov, bbox = grid.encode(boxes, scores)
        assert cov.shape == (1, grid.GRID_ROWS, grid.GRID_COLS) and cov.dtype == np.float32
        assert bbox.shape == (4, grid.GRID_ROWS, grid.GRID_COLS) and bbox.dtype == np.float32
        assert np.count_nonzero(cov) == len(boxes)

        decoded, decoded_scores = grid.decode(cov, bbox)
        assert len(decoded) == len(boxes)
        order = np.argsort(-scores, kind="stable")
        np.testing.assert_array_equal(decoded_scores, scores[order].astype(np.float64))
        if len(boxes):
            assert np.max(np.abs(decoded - boxes[order])) < TOLERANCE_PX

    assert faces_total > SCENES * 5
    assert scenes_sharing_a_cell > SCENES // 10
    assert edge_boxes > SCENES


def test_shared_cell_moves_weaker_face_to_nearest_free_cell() -> None:
    """Two concentric faces: the stronger keeps the centre cell, the weaker takes a neighbour."""
    boxes = np.array([[300.0, 100.0, 340.0, 140.0], [220.0, 20.0, 420.0, 220.0]])
    cov, bbox = grid.encode(boxes, [0.6, 0.9])
    assert cov[0, 7, 20] == pytest.approx(0.9)
    cells = np.argwhere(cov[0] > 0).tolist()
    assert len(cells) == 2 and [7, 20] in cells
    (other,) = [cell for cell in cells if cell != [7, 20]]
    assert max(abs(other[0] - 7), abs(other[1] - 20)) == 1
    decoded, _ = grid.decode(cov, bbox)
    np.testing.assert_allclose(decoded, boxes[::-1], atol=TOLERANCE_PX)


def test_decode_applies_threshold_nms_and_top_k() -> None:
    """Cells under 0.2 are ignored, overlaps over IoU 0.5 suppressed, and at most 20 kept."""
    cov = np.zeros((1, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
    bbox = np.zeros((4, grid.GRID_ROWS, grid.GRID_COLS), dtype=np.float32)
    for col in range(grid.GRID_COLS):
        cov[0, 0, col] = 0.5 + col / 100
        bbox[:, 0, col] = 0.2
    cov[0, 2, 1] = 0.907
    bbox[:, 2, 1] = 0.2
    cov[0, 3, 1] = 0.905
    bbox[:, 3, 1] = (0.2, 23.0 / 35.0, 0.2, -0.2)
    boxes, scores = grid.decode(cov, bbox)
    kept = scores.astype(np.float32)
    assert len(boxes) == grid.TOP_K
    assert scores[0] == pytest.approx(0.95)
    assert np.float32(0.907) in kept
    assert np.float32(0.905) not in kept
    assert np.all(np.diff(scores) <= 0)

    single = np.zeros_like(cov)
    single[0, 5, 5] = 0.19
    assert len(grid.decode(single, bbox)[0]) == 0
    single[0, 5, 5] = 0.2
    assert len(grid.decode(single, bbox)[0]) == 1


def test_encode_rejects_mismatched_inputs() -> None:
    """One coverage per box."""
    with pytest.raises(ValueError):
        grid.encode([[0, 0, 10, 10]], [0.5, 0.6])
