"""tools' shared config loading: a renamed config's old path names the new one."""
import pytest

from anomed_mmdet.utils.cli import RENAMED_CONFIGS, check_config_path
from tests.conftest import REPO


def test_renamed_configs_point_to_files_that_exist():
    for old, new in RENAMED_CONFIGS.items():
        assert not (REPO / old).exists(), old
        assert (REPO / new).is_file(), new


def test_old_path_names_the_new_one():
    old, new = next(iter(RENAMED_CONFIGS.items()))
    with pytest.raises(FileNotFoundError, match=f'renamed to {new}'):
        check_config_path(str(REPO / old))
    with pytest.raises(FileNotFoundError, match='config file not found: nowhere.py'):
        check_config_path('nowhere.py')
    check_config_path(str(REPO / new))  # an existing file passes
