"""Time the synthetic chest X-ray generator; prints a table (median of --repeats runs).

Example: python tools/analysis_tools/benchmark_generator.py --num-images 2000 --sizes 512 --workers 1 2
"""
import argparse
import shutil
import statistics
import tempfile

from anomed_mmdet.datasets.synthetic import SynthCXRConfig, generate_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--num-images', type=int, default=2000)
    p.add_argument('--sizes', type=int, nargs='+', default=[512])
    p.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    p.add_argument('--repeats', type=int, default=1)
    a = p.parse_args()
    rows = []
    for size in a.sizes:
        for workers in a.workers:
            times = []
            for _ in range(a.repeats):
                out = tempfile.mkdtemp(prefix='synth_bench_')
                try:
                    times.append(generate_dataset(out, SynthCXRConfig(num_images=a.num_images, image_size=size),
                                                  workers=workers)['seconds'])
                finally:
                    shutil.rmtree(out, ignore_errors=True)
            med = statistics.median(times)
            rows.append((size, workers, a.num_images, med, a.num_images / med))
    print(f'| image size | workers | images | seconds (median of {a.repeats}) | images/s |')
    print('|---|---|---|---|---|')
    for size, workers, n, sec, rate in rows:
        print(f'| {size} | {workers} | {n} | {sec:.1f} | {rate:.1f} |')


if __name__ == '__main__':
    main()
