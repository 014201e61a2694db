"""The DALI pipeline of the GPU server's `facenet_preprocess` model.

One encoded image in (the file's bytes), FaceNet's input out, all on the GPU: decode to RGB
(nvJPEG for JPEG), stretch the whole image to 736x416 with a linear, antialiased filter (the
triangle filter widens when shrinking, as the client's resampler and Pillow's BILINEAR do),
planar R, G, B, value = pixel / 255; plus the decoded image's shape [height, width, 3] so the
client can map boxes back (X = x * width / 736, Y = y * height / 416).

    python3 facenet_preprocess.py OUTPUT [--batch N]

writes the serialized pipeline (triton-model-builder makes facenet_preprocess/1/model.dali).
Needs nvidia-dali only to serialize; the constants below are read by the tests.
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


def build(batch_size: int, num_threads: int = 4, device_id: int = 0):  # noqa: ANN201 - a DALI Pipeline
    """The pipeline, for batches of up to batch_size images."""
    from nvidia.dali import fn, pipeline_def, types

    @pipeline_def(batch_size=batch_size, num_threads=num_threads, device_id=device_id)
    def facenet_preprocess():  # noqa: ANN202
        encoded = fn.external_source(name=INPUT_NAME, device="cpu", dtype=types.UINT8, ndim=1)
        images = fn.decoders.image(encoded, device="mixed", output_type=types.RGB)
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
    args = parser.parse_args(argv)
    build(args.batch).serialize(filename=args.output)
    print(f"facenet_preprocess.py: wrote {args.output} (batch {args.batch})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
