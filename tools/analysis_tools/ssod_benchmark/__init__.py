"""The semi-supervised benchmark: plan, run and report (tools/analysis_tools/benchmark_ssod.py)."""
from .plan import BUDGETS, METHODS, Budget, Method, Run, build_plan, render_config
from .report import aggregate, render_markdown, plot_ratios, targets

__all__ = ['BUDGETS', 'METHODS', 'Budget', 'Method', 'Run', 'build_plan', 'render_config',
           'aggregate', 'render_markdown', 'plot_ratios', 'targets']
