"""Optimizer wrappers that skip iterations with a non-finite loss or gradient."""
from .nonfinite_optim_wrapper import (NonFiniteLossError, SkipNonFiniteAmpOptimWrapper,
                                      SkipNonFiniteOptimWrapper)

__all__ = ['NonFiniteLossError', 'SkipNonFiniteAmpOptimWrapper', 'SkipNonFiniteOptimWrapper']
