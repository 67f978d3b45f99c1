"""Run fuzz cases in worker processes, with a time limit and a memory bound per case.

Case ``(reader, seed, index)`` draws everything from ``random.Random(f'{seed}:{reader}:{index}')``,
so it replays alone (``run_one``) and gives the same input whatever the number of workers.

Each worker is a fresh interpreter (``spawn``) that builds the seeds and imports the readers once,
then runs cases one by one:

* **time**: the parent waits ``timeout`` s for each answer; past it the worker is killed
  (a ``timeout`` failure) and a new one started;
* **crash**: a worker that dies (segfault, abort, ``os._exit``) is a ``crash`` failure;
* **memory**: the worker's address space is capped at its size after start-up plus
  ``address_mb`` (an attempt to allocate more raises ``MemoryError`` inside the reader instead of
  swapping the machine; any ``MemoryError`` is a ``memory`` failure), and the peak resident
  memory of each case (``VmHWM``, reset before the case) may grow at most ``rss_mb``.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import random
import resource
import shutil
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

DEFAULT_TIMEOUT = 20.0
DEFAULT_RSS_MB = 512
DEFAULT_ADDRESS_MB = 2048
THREAD_ENV = dict(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1', MALLOC_ARENA_MAX='2',
                  OPENCV_FOR_THREADS_NUM='1', TQDM_DISABLE='1')


@dataclass
class Result:
    reader: str
    index: int
    status: str
    kind: str
    detail: str = ''
    desc: str = ''
    seconds: float = 0.0
    peak_mb: float = 0.0


def _proc_status(key: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])  # kB
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def case_rng(reader: str, seed: int, index: int) -> random.Random:
    return random.Random(f'{seed}:{reader}:{index}')


def run_one(target, reader: str, seed: int, index: int, work: Path, keep: Optional[Path] = None,
            rss_mb: float = DEFAULT_RSS_MB) -> Result:
    """One case in this process: make it, run the reader, classify."""
    import warnings

    from .targets import failure, memory_error_in_chain
    rng = case_rng(reader, seed, index)
    case = work / f'case_{index}'
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    desc, tracked, rss0 = '', False, 0
    t0 = time.perf_counter()
    try:
        made, desc = target.make(rng, case)
    except Exception as exc:  # noqa: BLE001
        out = failure(f'harness:{type(exc).__name__}', traceback.format_exc()[-500:])
    else:
        tracked = _reset_peak()  # the bound is on the reader, not on making its input
        rss0 = _proc_status('VmRSS') or 0
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            try:
                out = target.call(rng, case, made)
            except MemoryError as exc:
                out = failure('memory', f'MemoryError: {exc}')
            except BaseException as exc:  # noqa: BLE001  (a target's own checks failed)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                out = failure('memory' if memory_error_in_chain(exc) else f'exception:{type(exc).__name__}',
                              str(exc)[:300])
    seconds = time.perf_counter() - t0
    peak = ((_proc_status('VmHWM') or 0) - rss0) / 1024 if tracked else 0.0
    if tracked and peak > rss_mb and out.status != 'failure':
        out = failure('memory', f'peak resident memory +{peak:.0f} MB > {rss_mb} MB')
    if out.status == 'failure' and keep is not None:
        dest = keep / f'{reader.replace(" ", "_").replace("/", "_")}-{seed}-{index}'
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(case, dest, dirs_exist_ok=True)
        (dest / 'CASE.txt').write_text(f'{reader} seed={seed} index={index}\n{desc}\n{out.kind}: {out.detail}\n')
    shutil.rmtree(case, ignore_errors=True)
    return Result(reader, index, out.status, out.kind, out.detail, desc, seconds, max(peak, 0.0))


def _worker(conn, readers: Sequence[str], seed: int, address_mb: float, rss_mb: float,
            keep: Optional[str], quiet: bool, tmp_root: Optional[str] = None) -> None:
    if quiet:  # converters print, tqdm and C libraries write to fd 1 / 2
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    from .targets import SELF_TESTS, TARGETS
    work = Path(tempfile.mkdtemp(prefix='fuzz_worker_', dir=tmp_root))
    try:
        targets = {}
        for name in readers:
            targets[name] = {**TARGETS, **SELF_TESTS}[name]()
            targets[name].setup(work / 'setup')
        for name, t in targets.items():  # warm up: first-call imports and caches before the cap
            if name in TARGETS:
                run_one(t, name, seed, -1, work, None, rss_mb=1e9)
        vm = _proc_status('VmSize')
        if vm and address_mb:
            limit = vm * 1024 + int(address_mb * 2**20)
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        conn.send(('ready', None))
        while True:
            msg = conn.recv()
            if msg is None:
                break
            reader, index = msg
            res = run_one(targets[reader], reader, seed, index, work, Path(keep) if keep else None, rss_mb)
            conn.send(('result', res))
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _thread_env():
    old = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Worker:
    def __init__(self, ctx, readers, seed, address_mb, rss_mb, keep, quiet, start_timeout, tmp_root):
        self.parent, child = ctx.Pipe()
        with _thread_env():
            self.proc = ctx.Process(target=_worker, args=(child, list(readers), seed, address_mb, rss_mb,
                                                          keep, quiet, tmp_root), daemon=True)
            self.proc.start()
        child.close()
        self.case: Optional[Tuple[str, int]] = None
        self.deadline = 0.0
        if not self.parent.poll(start_timeout):
            self.kill()
            raise RuntimeError(f'fuzz worker did not start in {start_timeout} s')
        try:
            tag, _ = self.parent.recv()
        except EOFError:
            raise RuntimeError(f'fuzz worker died while starting (exit code {self.proc.exitcode})') from None
        assert tag == 'ready'

    def send(self, case: Tuple[str, int], timeout: float) -> None:
        self.case = case
        self.deadline = time.monotonic() + timeout
        self.parent.send(case)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(10)

    def close(self) -> None:
        try:
            self.parent.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(10)
        self.kill()


def run_cases(cases: Iterable[Tuple[str, int]], readers: Sequence[str], seed: int, *, workers: int = 1,
              timeout: float = DEFAULT_TIMEOUT, address_mb: float = DEFAULT_ADDRESS_MB,
              rss_mb: float = DEFAULT_RSS_MB, keep: Optional[str] = None, quiet: bool = True,
              start_timeout: float = 300.0, progress=None) -> List[Result]:
    """Run ``cases`` (``(reader, index)``) on ``workers`` processes; one :class:`Result` each."""
    ctx = mp.get_context('spawn')
    todo = list(cases)[::-1]
    results: List[Result] = []
    tmp_root = tempfile.mkdtemp(prefix='fuzz_inputs_')  # removed at the end: killed workers leave theirs

    def start() -> _Worker:
        return _Worker(ctx, readers, seed, address_mb, rss_mb, keep, quiet, start_timeout, tmp_root)

    pool: List[_Worker] = []
    try:
        pool += [start() for _ in range(max(1, min(workers, len(todo))))]
        for w in pool:
            if todo:
                w.send(todo.pop(), timeout)
        while any(w.case for w in pool):
            busy = [w for w in pool if w.case]
            now = time.monotonic()
            ready = wait([w.parent for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - now))
            for i, w in enumerate(pool):
                if not w.case:
                    continue
                reader, index = w.case
                res = None
                if w.parent in ready:
                    try:
                        _, res = w.parent.recv()
                    except (EOFError, OSError):
                        w.proc.join(5)
                        code = w.proc.exitcode
                        res = Result(reader, index, 'failure', 'crash', f'worker died (exit code {code})')
                elif time.monotonic() >= w.deadline:
                    res = Result(reader, index, 'failure', 'timeout', f'no answer in {timeout} s')
                if res is None:
                    continue
                if res.kind in ('crash', 'timeout'):
                    res.desc = _describe(reader, seed, index)
                    w.kill()
                    w = pool[i] = start()
                results.append(res)
                if progress:
                    progress(res)
                w.case = None
                if todo:
                    w.send(todo.pop(), timeout)
    finally:
        for w in pool:
            w.close()
        shutil.rmtree(tmp_root, ignore_errors=True)
    return results


def _describe(reader: str, seed: int, index: int) -> str:
    """The mutation of a case that killed its worker (made again here, not run)."""
    try:
        from .targets import TARGETS
        with tempfile.TemporaryDirectory() as tmp:
            t = TARGETS[reader]()
            if reader == 'infer.py folder':  # only its seeds are needed to make a case
                from .targets import dicom_seeds, png_bytes, ramp
                import numpy as np
                t.seeds = dicom_seeds(Path(tmp) / 's')
                img = ramp(48, 64, 256).astype(np.uint8)
                t.png, t.jpeg = png_bytes(img), png_bytes(img, '.jpg')
            else:
                t.setup(Path(tmp))
            case = Path(tmp) / 'case'
            case.mkdir()
            return t.make(case_rng(reader, seed, index), case)[1]
    except Exception as exc:  # noqa: BLE001
        return f'(could not re-make the case: {exc})'


@dataclass
class Row:
    reader: str
    cases: int = 0
    valid: int = 0
    named: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    max_seconds: float = 0.0
    max_peak_mb: float = 0.0


def summarize(results: Sequence[Result], readers: Sequence[str]) -> Dict[str, Row]:
    rows = {r: Row(r) for r in readers}
    for res in results:
        row = rows[res.reader]
        row.cases += 1
        row.seconds += res.seconds
        row.max_seconds = max(row.max_seconds, res.seconds)
        row.max_peak_mb = max(row.max_peak_mb, res.peak_mb)
        if res.status == 'valid':
            row.valid += 1
        elif res.status == 'named':
            row.named[res.kind] += 1
        else:
            row.failures[res.kind] += 1
    return rows


def table(rows: Dict[str, Row], markdown: bool = False, top: Optional[int] = None) -> str:
    """The per-reader table; ``top`` kinds per row (all in markdown, 6 otherwise)."""
    top = top or (1000 if markdown else 6)
    def kinds(c: Counter) -> str:
        items = c.most_common()
        text = ', '.join(f'{k} {n}' for k, n in items[:top])
        rest = items[top:]
        return text + (f', +{len(rest)} more kinds ({sum(n for _, n in rest)})' if rest else '')

    head = ('reader', 'cases', 'valid', 'named errors', 'failures', 'max s/case', 'max MB', 'named errors by kind')
    body = [(r.reader, str(r.cases), str(r.valid), str(sum(r.named.values())), str(sum(r.failures.values())),
             f'{r.max_seconds:.2f}', f'{r.max_peak_mb:.0f}', kinds(r.named) or '-') for r in rows.values()]
    total = ('total', str(sum(r.cases for r in rows.values())), str(sum(r.valid for r in rows.values())),
             str(sum(sum(r.named.values()) for r in rows.values())),
             str(sum(sum(r.failures.values()) for r in rows.values())),
             f'{max((r.max_seconds for r in rows.values()), default=0):.2f}',
             f'{max((r.max_peak_mb for r in rows.values()), default=0):.0f}', '')
    body.append(total)
    if markdown:
        lines = ['| ' + ' | '.join(head) + ' |', '|' + '|'.join('---' for _ in head) + '|']
        lines += ['| ' + ' | '.join(row) + ' |' for row in body]
        return '\n'.join(lines)
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head) - 1)]
    fmt = lambda row: '  '.join(  # noqa: E731
        (c.ljust(w) if i == 0 else c.rjust(w)) for i, (c, w) in enumerate(zip(row, widths))) + '  ' + row[-1]
    return '\n'.join([fmt(head), '-' * (sum(widths) + 2 * len(widths) + 20)] + [fmt(r) for r in body])


def failure_lines(results: Sequence[Result], seed: int) -> List[str]:
    out = []
    for res in results:
        if res.status == 'failure':
            out.append(f'[{res.reader} #{res.index}] {res.kind}: {res.detail.strip()[:300]}\n'
                       f'    input: {res.desc[:300]}\n'
                       f'    replay: tools/misc/fuzz_inputs.py --seed {seed} --replay "{res.reader}:{res.index}"')
    return out


def plan(readers: Sequence[str], cases: int) -> List[Tuple[str, int]]:
    """Cases interleaved across readers, so a short run covers every reader."""
    return [(r, i) for i in range(cases) for r in readers]
