"""The hesitant-case review loop: export the PLO's candidates for a radiologist, merge the review."""
from .export import ReviewError, export_review, images_fingerprint
from .merge import merge_review, read_review

__all__ = ['ReviewError', 'export_review', 'images_fingerprint', 'merge_review', 'read_review']
