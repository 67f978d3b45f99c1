"""Print the test metrics of several work dirs side by side (newest tools/test.py run in each).

Example: python tools/analysis_tools/summarize_results.py work_dirs/demo/supervised work_dirs/demo/anomed
"""
import argparse
import sys
from pathlib import Path
from typing import List


from ssod_benchmark.execute import latest_test_metrics

COLUMNS = [('coco/bbox_mAP', 'AP50:95'), ('coco/bbox_mAP_50', 'AP50'), ('coco/bbox_mAP_75', 'AP75'),
           ('coco/bbox_mAP_s', 'APs'), ('coco/bbox_mAP_m', 'APm'), ('coco/bbox_mAP_l', 'APl')]


def table(rows: List[tuple]) -> str:
    classes = sorted({k.split('/')[1][:-len('_precision')] for _, m in rows for k in m
                      if k.endswith('_precision')})
    head = ['run'] + [c for _, c in COLUMNS] + [f'AP {c}' for c in classes]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, m in rows:
        vals = [m.get(k, float('nan')) for k, _ in COLUMNS] + [m.get(f'coco/{c}_precision', float('nan'))
                                                                for c in classes]
        lines.append('| ' + ' | '.join([name] + [f'{v:.3f}' for v in vals]) + ' |')
    return '\n'.join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('work_dirs', nargs='+', type=Path)
    a = p.parse_args()
    rows = []
    for wd in a.work_dirs:
        metrics = latest_test_metrics(wd)
        if metrics is None:
            sys.exit(f'no tools/test.py metrics json under {wd}')
        rows.append((wd.name, metrics))
    print(table(rows))


if __name__ == '__main__':
    main()
