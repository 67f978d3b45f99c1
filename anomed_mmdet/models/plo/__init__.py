"""Pseudo-Label Optimizer: confident / hesitant / scrap pseudo labels and hesitant losses."""
from .distribution_alignment import LabelledClassPrior, ScoreAlignment, alignment_loss
from .hesitant_losses import (AnchorHeadHesitantLoss, HesitantLoss, TwoStageHesitantLoss,
                              build_hesitant_loss, hesitant_losses)
from .pseudo_label_optimizer import CONFIDENT, HESITANT, SCRAP, PseudoLabelOptimizer
from .threshold_calibration import PrecisionCalibration, match_predictions

__all__ = ['PseudoLabelOptimizer', 'CONFIDENT', 'HESITANT', 'SCRAP', 'hesitant_losses', 'build_hesitant_loss',
           'HesitantLoss', 'TwoStageHesitantLoss', 'AnchorHeadHesitantLoss',
           'LabelledClassPrior', 'ScoreAlignment', 'alignment_loss', 'PrecisionCalibration',
           'match_predictions']
