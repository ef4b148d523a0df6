"""Synthetic registry-sized corpora resampled from real records, and synthetic patients, for the scale benchmarks."""

from .generate import Pool, generate_studies, load_pool, write_corpus
from .patients import synthetic_patients

__all__ = ["Pool", "generate_studies", "load_pool", "synthetic_patients", "write_corpus"]
