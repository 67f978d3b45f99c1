"""Necks: Scale-Invariant Bottleneck (SIB) and Feature Aggregator (FA)."""
