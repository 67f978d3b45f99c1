"""The semi-supervised benchmark: plan, run and report (tools/analysis_tools/benchmark_ssod.py).

Orchestration only (subprocess runs of tools/train.py and tools/test.py, repo paths, targets):
it lives beside the tools, not in the installed package.
"""
from .plan import ABLATIONS, BUDGETS, METHODS, Budget, Method, Run, build_config, build_plan
from .report import aggregate, plot_ratios, regime_checks, render_markdown, targets

__all__ = ['ABLATIONS', 'BUDGETS', 'METHODS', 'Budget', 'Method', 'Run', 'build_config', 'build_plan',
           'aggregate', 'render_markdown', 'plot_ratios', 'regime_checks', 'targets']
