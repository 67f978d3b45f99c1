"""Generate the synthetic chest X-ray data set (COCO format, SSOD splits).

Example: python tools/misc/gen_synth_cxr.py data/synth_cxr --num-images 1000 --size 512
"""
import argparse
import json
import os

from anomed_mmdet.datasets.synthetic import SynthCXRConfig, generate_dataset


def parse_args() -> argparse.Namespace:
    d = SynthCXRConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out_dir', help='output folder (images/ and annotations/ are written inside)')
    p.add_argument('--num-images', type=int, default=d.num_images)
    p.add_argument('--size', type=int, default=d.image_size, help='image side in pixels')
    p.add_argument('--seed', type=int, default=d.seed)
    p.add_argument('--normal-ratio', type=float, default=d.normal_ratio, help='share of images with no lesion')
    p.add_argument('--labeled-ratio', type=float, default=d.labeled_ratio, help='labelled share of train')
    p.add_argument('--val-ratio', type=float, default=d.val_ratio)
    p.add_argument('--test-ratio', type=float, default=d.test_ratio)
    p.add_argument('--class-probs', type=float, nargs=5, default=list(d.class_probs),
                   metavar='P', help='relative frequency of nodule calcification mass '
                                     'pleural_effusion cardiomegaly')
    p.add_argument('--max-rotation', type=float, default=d.max_rotation, help='degrees')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--skip-existing', action='store_true',
                   help='do nothing when out_dir already holds a set made with the same settings')
    return p.parse_args()


def main() -> None:
    a = parse_args()
    cfg = SynthCXRConfig(num_images=a.num_images, image_size=a.size, seed=a.seed,
                         normal_ratio=a.normal_ratio, labeled_ratio=a.labeled_ratio,
                         val_ratio=a.val_ratio, test_ratio=a.test_ratio,
                         class_probs=a.class_probs, max_rotation=a.max_rotation)
    if a.skip_existing and _same_settings(a.out_dir, cfg):
        print(f'{a.out_dir} already holds this data set; skipped')
        return
    summary = generate_dataset(a.out_dir, cfg, workers=a.workers, progress=True)
    print(json.dumps(summary, indent=1))


def _same_settings(out_dir: str, cfg: SynthCXRConfig) -> bool:
    from dataclasses import asdict
    path = os.path.join(out_dir, 'annotations', 'test.json')
    if not os.path.exists(path):
        return False
    with open(path) as f:
        info = json.load(f).get('info', {})
    return info.get('generator') == json.loads(json.dumps(asdict(cfg)))


if __name__ == '__main__':
    main()
