"""Importing this module makes mmengine's ``Config.pretty_text`` skip yapf formatting.

yapf takes most of a tiny training run's time (config dump, env log, checkpoint meta: ~30 s of
~55 s for tiny AnoMed on 2 cores); the unformatted text is the same valid Python. Test use only:
imported in-process, or by a training subprocess through ``custom_imports``.
"""
import mmengine.config.config as _config


def _plain(text: str, **kwargs):
    return text, False


_config.FormatCode = _plain
