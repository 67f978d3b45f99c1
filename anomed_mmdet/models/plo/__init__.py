"""Pseudo-Label Optimizer: confident / hesitant / scrap pseudo labels and hesitant losses."""
from .hesitant_losses import HESITANT_DEFAULTS, hesitant_losses, register_hesitant_loss
from .pseudo_label_optimizer import CONFIDENT, HESITANT, PseudoLabelOptimizer

__all__ = ['PseudoLabelOptimizer', 'CONFIDENT', 'HESITANT', 'hesitant_losses',
           'register_hesitant_loss', 'HESITANT_DEFAULTS']
