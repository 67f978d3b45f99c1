"""Semi-supervised detectors."""
