"""Tiny COCO sets in tmp_path with one defect each."""
import json
from pathlib import Path

import cv2
import numpy as np

CATEGORIES = [dict(id=1, name='nodule'), dict(id=2, name='mass')]
SIZE = 32


def write_png(path: Path, size: int = SIZE, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    cv2.imwrite(str(path), rng.integers(0, 255, (size, size), dtype=np.uint8))


def make_set(root: Path, defect: str = 'none') -> Path:
    """3 images (the third without boxes) and 3 boxes; ``defect`` breaks image / annotation 1."""
    img_dir = root / 'images'
    img_dir.mkdir(parents=True, exist_ok=True)
    images = [dict(id=i, file_name=f'{i}.png', width=SIZE, height=SIZE) for i in (1, 2, 3)]
    for i in (1, 2, 3):
        write_png(img_dir / f'{i}.png', seed=i)
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[4, 4, 10, 8], area=80, iscrowd=0),
            dict(id=2, image_id=2, category_id=2, bbox=[10, 12, 6, 6], area=36, iscrowd=0),
            dict(id=3, image_id=2, category_id=1, bbox=[1, 1, 5, 5], area=25, iscrowd=0)]
    data = dict(images=images, annotations=anns, categories=CATEGORIES)
    png1 = img_dir / '1.png'
    if defect == 'missing_image':
        png1.unlink()
    elif defect == 'truncated_png':
        png1.write_bytes(png1.read_bytes()[:60])
    elif defect == 'undecodable_png':  # header and IEND intact, garbage pixel data
        raw = bytearray(png1.read_bytes())
        start = raw.index(b'IDAT') + 4
        raw[start:start + 40] = bytes(40)
        png1.write_bytes(bytes(raw))
    elif defect == 'size_mismatch':
        write_png(png1, size=40)
    elif defect == 'zero_area_box':
        anns[0].update(bbox=[4, 4, 0, 8], area=0)
    elif defect == 'box_outside':
        anns[0].update(bbox=[28, 4, 10, 8])
    elif defect == 'unknown_category':
        anns[0].update(category_id=7)
    elif defect == 'orphan_annotation':
        anns[0].update(image_id=99)
    elif defect == 'duplicate_id':
        anns[1].update(id=1)
    ann_file = root / 'ann.json'
    ann_file.write_text(json.dumps(data))
    if defect == 'not_coco_list':
        ann_file.write_text(json.dumps([dict(file='1.png', boxes=[[1, 2, 3, 4]])]))
    elif defect == 'not_coco_keys':
        ann_file.write_text(json.dumps(dict(files=['1.png'], labels=[])))
    elif defect == 'not_json':
        ann_file.write_text('file,x,y,w,h\n1.png,1,2,3,4\n')
    return ann_file
