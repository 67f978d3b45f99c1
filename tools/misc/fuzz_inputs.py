"""Fuzz every reader of hostile input with mutated files and print what happened.

    python tools/misc/fuzz_inputs.py --cases 1000 --seed 0

Readers: read_dicom, LoadDicomFromFile, the VinDr-CXR and TBX11K converters, CheckedCocoDataset,
tools/misc/check_dataset.py and tools/infer.py's folder mode (run_inference with a random-weight
model). Each gets --cases mutated inputs (bit flips, byte insertions / deletions, truncation at
tag boundaries, swapped / duplicated / oversized tags, wrong VRs, absurd image attributes, short
and long pixel data, transfer syntaxes without a decoder, nested sequences; bad CSV cells and
rows, hostile XML / list files / PNG headers; COCO json with wrong types, NaN / inf / negative
boxes, huge ids, missing keys, deep nesting).

A case passes with a valid result or the project's error naming the file (a converter may also
report the bad input and go on). Failures: any other exception, an invalid result, a crash, a
case over --timeout seconds, a MemoryError or a peak resident memory over --rss-mb MB. The table
gives, per reader: cases, valid, named errors (by kind), failures. Exit status 1 on a failure.
``--replay READER:INDEX`` runs one case in this process and shows the traceback.
See tests/fuzz/ and docs/reliability.md.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fuzz.runner import (DEFAULT_ADDRESS_MB, DEFAULT_RSS_MB, DEFAULT_TIMEOUT,  # noqa: E402
                               failure_lines, plan, run_cases, summarize, table)
from tests.fuzz.targets import TARGETS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--cases', type=int, default=200, help='cases per reader (default 200)')
    p.add_argument('--seed', type=int, default=0, help='seed of the mutations (default 0)')
    p.add_argument('--readers', nargs='+', choices=sorted(TARGETS), default=list(TARGETS), metavar='READER',
                   help=f'readers to fuzz (default: all): {", ".join(TARGETS)}')
    p.add_argument('--workers', type=int, default=1, help='worker processes (default 1)')
    p.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT, help='seconds per case (default %(default)s)')
    p.add_argument('--rss-mb', type=float, default=DEFAULT_RSS_MB,
                   help='peak resident memory a case may add, MB (default %(default)s)')
    p.add_argument('--address-mb', type=float, default=DEFAULT_ADDRESS_MB,
                   help='address space a worker may add after start-up, MB (default %(default)s)')
    p.add_argument('--keep-failures', metavar='DIR', help='copy the input of each failing case here')
    p.add_argument('--markdown', action='store_true', help='print the table as markdown')
    p.add_argument('--replay', metavar='READER:INDEX', help='run one case here, with its traceback')
    p.add_argument('--verbose', action='store_true', help='one line per case')
    return p.parse_args(argv)


def replay(spec: str, seed: int) -> int:
    import traceback

    from tests.fuzz import runner, targets
    reader, index = spec.rsplit(':', 1)
    t = TARGETS[reader]()
    with tempfile.TemporaryDirectory() as tmp:
        t.setup(Path(tmp) / 'setup')
        rng = runner.case_rng(reader, seed, int(index))
        case = Path(tmp) / 'case'
        case.mkdir()
        made, desc = t.make(rng, case)
        print(f'{reader} #{index} (seed {seed}): {desc}')
        orig = targets.unexpected

        def loud(exc):
            traceback.print_exception(exc)
            return orig(exc)
        targets.unexpected = loud
        out = t.call(rng, case, made)
        print(f'{out.status}: {out.kind} {out.detail}')
        return 1 if out.status == 'failure' else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.replay:
        return replay(args.replay, args.seed)
    cases = plan(args.readers, args.cases)
    t0 = time.time()
    done = [0]

    def progress(res):
        done[0] += 1
        if args.verbose:
            print(f'{res.reader} #{res.index}: {res.status} {res.kind} ({res.seconds:.2f} s) {res.desc[:120]}',
                  flush=True)
        elif done[0] % 200 == 0:
            print(f'... {done[0]}/{len(cases)} cases, {time.time() - t0:.0f} s', file=sys.stderr, flush=True)

    results = run_cases(cases, args.readers, args.seed, workers=args.workers, timeout=args.timeout,
                        address_mb=args.address_mb, rss_mb=args.rss_mb, keep=args.keep_failures,
                        progress=progress)
    rows = summarize(results, args.readers)
    print(f'fuzz_inputs: {len(results)} cases ({args.cases} per reader), seed {args.seed}, '
          f'{time.time() - t0:.0f} s; limits per case: {args.timeout:g} s, +{args.rss_mb:g} MB resident, '
          f'address space +{args.address_mb:g} MB')
    print(table(rows, markdown=args.markdown))
    fails = failure_lines(results, args.seed)
    if fails:
        print(f'\n{len(fails)} failure(s):')
        print('\n'.join(fails))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
