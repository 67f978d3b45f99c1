"""Converter throughput vs pydicom's decode-only rate on the same generated DICOMs.

Writes --num-images DICOMs (--size px square, 12-bit MONOCHROME2 with a window, smooth
anatomy-like content plus noise) to a temporary folder, then times on the same files:
  decode only       pydicom.dcmread(f).pixel_array, one process
  read_dicom        + modality/VOI/8-bit scaling, one process
  converter         convert_vindr (read_dicom + resize + PNG + json), per --workers
and prints a markdown table. Example:
  python tools/analysis_tools/benchmark_dicom.py --num-images 50 --size 2048 --workers 1 2
"""
import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def make_dicoms(folder: str, n: int, size: int, seed: int = 0) -> list:
    from anomed_mmdet.testing import write_dicom

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = 1800 + 1200 * np.exp(-((xx - 0.5) ** 2 * 6 + (yy - 0.55) ** 2 * 3))
    base += 300 * np.sin(yy * 40) * (np.abs(xx - 0.5) > 0.1)  # rib-like bands
    paths = []
    for i in range(n):
        px = base + rng.normal(0, 40, base.shape).astype(np.float32) + rng.uniform(-200, 200)
        px = np.clip(px, 0, 4095).astype(np.uint16)
        paths.append(write_dicom(os.path.join(folder, f'img{i:04d}.dicom'), px, bits_stored=12,
                                 window=(2048, 3000)))
    return paths


def rate(fn, paths) -> float:
    t0 = time.perf_counter()
    for p in paths:
        fn(p)
    return len(paths) / (time.perf_counter() - t0)


def main(argv=None) -> list:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num-images', type=int, default=50)
    p.add_argument('--size', type=int, default=2048)
    p.add_argument('--workers', type=int, nargs='+', default=[1, os.cpu_count() or 1])
    p.add_argument('--max-size', type=int, nargs='+', default=[0, 1024],
                   help='converter --max-size values to time (0 = keep the size)')
    p.add_argument('--tmp-dir', default=None, help='where to write the DICOMs (default: system temp)')
    a = p.parse_args(argv)

    import pydicom

    from anomed_mmdet.datasets.converters.vindr import convert_vindr
    from anomed_mmdet.datasets.dicom import read_dicom

    work = tempfile.mkdtemp(prefix='dicom_bench_', dir=a.tmp_dir)
    try:
        root = os.path.join(work, 'vindr')
        os.makedirs(os.path.join(root, 'train'))
        paths = make_dicoms(os.path.join(root, 'train'), a.num_images, a.size)
        with open(os.path.join(root, 'train.csv'), 'w') as f:
            f.write('image_id,rad_id,class_name,x_min,y_min,x_max,y_max\n')
            for path in paths:
                f.write(f'{os.path.splitext(os.path.basename(path))[0]},R1,No finding,,,,\n')
        mb = os.path.getsize(paths[0]) / 2**20
        rows = [('decode only: dcmread().pixel_array', 1, rate(lambda q: pydicom.dcmread(q).pixel_array, paths)),
                ('read_dicom (LUT/window, 8-bit)', 1, rate(read_dicom, paths))]
        for max_size in a.max_size:
            for workers in a.workers:
                out = os.path.join(work, f'out_{max_size}_{workers}')
                s = convert_vindr(root, out, 'train', csv_path=os.path.join(root, 'train.csv'),
                                  max_size=max_size or None, workers=workers, verbose=False)
                label = f'converter (8-bit PNG{f", max-size {max_size}" if max_size else ", full size"})'
                rows.append((label, workers, s['images_per_s']))
                shutil.rmtree(out)
        decode = rows[0][2]
        print(f'{a.num_images} DICOMs, {a.size}x{a.size}, 12-bit, {mb:.1f} MiB each, {os.cpu_count()} CPUs')
        print('| step | workers | images/s | vs decode only |')
        print('|---|---|---|---|')
        for label, workers, r in rows:
            print(f'| {label} | {workers} | {r:.1f} | {r / decode:.2f}x |')
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
