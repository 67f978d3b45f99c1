"""Synthetic chest radiographs with lesions: the project's embedded default data."""
from .generator import CLASSES, SynthCXRConfig, generate_dataset, plan_lesions, split_indices
from .render import render_image

__all__ = ['CLASSES', 'SynthCXRConfig', 'generate_dataset', 'plan_lesions', 'split_indices', 'render_image']
