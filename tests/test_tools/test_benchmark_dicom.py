"""benchmark_dicom runs end to end on tiny files and prints its table."""
import importlib.util

from tests.conftest import REPO


def test_benchmark_dicom_tiny(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('bench', REPO / 'tools/analysis_tools/benchmark_dicom.py')
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(['--num-images', '3', '--size', '64', '--workers', '1', '--max-size', '0', '32',
                       '--tmp-dir', str(tmp_path)])
    assert [r[0].split(':')[0] for r in rows[:2]] == ['decode only', 'read_dicom (LUT/window, 8-bit)']
    assert len(rows) == 4 and all(r[2] > 0 for r in rows)
    out = capsys.readouterr().out
    assert '| step | workers | images/s | vs decode only |' in out and '1.00x' in out
    assert list(tmp_path.iterdir()) == []  # temporary DICOMs removed
