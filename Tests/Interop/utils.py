"""The original system's redis-om models, verbatim (module name `utils`, as deployed).

FaceScope's interoperability tests use these to write and read documents with the real
redis-om, exactly as the original Python services did.
"""
from typing import Dict, List, Optional

from redis_om import Field, JsonModel, get_redis_connection


class Bbox(JsonModel):
    x1: int
    y1: int
    x2: int
    y2: int


class Face(JsonModel):
    bbox: Bbox
    probability: int
    label: Optional[int] = None
    rotation: Optional[int] = None
    descriptors: Optional[Dict] = None


class Model(JsonModel):
    filename: str = Field(index=True, full_text_search=True)
    faces: Optional[List[Face]] = None
    channels: Optional[int] = None
    height: Optional[int] = None
    width: Optional[int] = None
    portrait: Optional[int] = None

    class Meta:
        database = get_redis_connection()
