"""The DALI pipeline of the GPU server's `facenet_preprocess` model.

One encoded image in (the file's bytes), FaceNet's input out: decode to RGB with the EXIF
orientation applied (the upright picture, as the client decodes it), stretch the whole image to
736x416 with a linear, antialiased filter (the triangle filter widens when shrinking, as the
client's resampler and Pillow's BILINEAR do), planar R, G, B, value = pixel / 255; plus the
oriented image's shape [height, width, 3] so the client can map boxes back
(X = x * width / 736, Y = y * height / 416).

Where it runs is a parameter (DEVICES): the served model is "mixed" (nvJPEG decodes on the GPU,
resizing and normalising run there too); "gpu" decodes on the CPU and resizes on the GPU; "cpu"
runs everything on the CPU and needs no GPU (Tests/Deploy runs it that way).

EXIF orientation: `adjust_orientation=True` is passed explicitly, so a DALI whose decoder cannot
honour it fails when the pipeline is built instead of silently serving sideways images. DALI's
nvImageCodec-based decoder has the argument; older releases (the 1.3x of tritonserver 24.04) keep
their `fn.decoders.image` on the legacy decoder, which disregards EXIF, and offer the
nvImageCodec one as `fn.experimental.decoders.image`: `image_decoder` picks the one that has it.

    python3 facenet_preprocess.py OUTPUT [--batch N] [--device mixed|gpu|cpu]

writes the serialized pipeline (triton-model-builder makes facenet_preprocess/1/model.dali).
Needs nvidia-dali only to build or serialize; the constants below are read by the tests.
"""

from __future__ import annotations

import argparse
import sys

WIDTH = 736
HEIGHT = 416
CHANNELS = 3
# pixel / 255, as crop_mirror_normalize's (pixel - mean) / std.
MEAN = (0.0, 0.0, 0.0)
STD = (255.0, 255.0, 255.0)
INPUT_NAME = "image_bytes"
# In this order: the DALI backend names the pipeline's outputs after config.pbtxt's outputs.
OUTPUT_NAMES = ("input_1", "image_shape")
# Where the pipeline runs; the served model's is the first.
DEVICES = ("mixed", "gpu", "cpu")
# Apply the EXIF orientation, as the client does (Sources/FaceScopeImaging/Orientation.swift).
ADJUST_ORIENTATION = True


def image_decoder():  # noqa: ANN201 - a DALI operator function
    """DALI's image decoder that can apply the EXIF orientation: `fn.decoders.image` where it has
    `adjust_orientation` (nvImageCodec based), else `fn.experimental.decoders.image` (DALI 1.3x)."""
    from nvidia.dali import backend, fn

    if backend.GetSchema("decoders__Image").HasArgument("adjust_orientation"):
        return fn.decoders.image
    return fn.experimental.decoders.image


def build(  # noqa: ANN201 - a DALI Pipeline
    batch_size: int,
    num_threads: int = 4,
    device_id: int | None = 0,
    device: str = DEVICES[0],
    adjust_orientation: bool = ADJUST_ORIENTATION,
):
    """The pipeline, for batches of up to batch_size images, run on `device` (one of DEVICES)."""
    from nvidia.dali import fn, pipeline_def, types

    if device not in DEVICES:
        raise ValueError(f"device {device!r} is not one of {DEVICES}")
    decode = image_decoder()

    @pipeline_def(
        batch_size=batch_size, num_threads=num_threads, device_id=None if device == "cpu" else device_id
    )
    def facenet_preprocess():  # noqa: ANN202
        encoded = fn.external_source(name=INPUT_NAME, device="cpu", dtype=types.UINT8, ndim=1)
        images = decode(
            encoded,
            device="mixed" if device == "mixed" else "cpu",
            output_type=types.RGB,
            adjust_orientation=adjust_orientation,
        )
        if device == "gpu":
            images = images.gpu()
        shape = fn.shapes(images, dtype=types.INT32)
        images = fn.resize(
            images, resize_x=WIDTH, resize_y=HEIGHT, interp_type=types.INTERP_LINEAR, antialias=True
        )
        tensor = fn.crop_mirror_normalize(
            images, dtype=types.FLOAT, output_layout="CHW", mean=list(MEAN), std=list(STD)
        )
        return tensor, shape

    return facenet_preprocess()


def main(argv: list[str] | None = None) -> int:
    """Serializes the pipeline to the given file."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="where to write the serialized pipeline (model.dali)")
    parser.add_argument("--batch", type=int, default=16, help="the model's max_batch_size")
    parser.add_argument("--device", choices=DEVICES, default=DEVICES[0], help="where it runs (default: %(default)s)")
    args = parser.parse_args(argv)
    build(args.batch, device=args.device).serialize(filename=args.output)
    print(f"facenet_preprocess.py: wrote {args.output} (batch {args.batch}, {args.device})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
