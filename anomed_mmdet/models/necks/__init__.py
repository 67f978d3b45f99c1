"""Necks: Scale-Invariant Bottleneck (SIB) and Feature Aggregator (FA)."""
from .edm import EDM, ConnectionBlock
from .fa import FA
from .sib import SIB, SIBBranch

__all__ = ['SIB', 'SIBBranch', 'FA', 'EDM', 'ConnectionBlock']
