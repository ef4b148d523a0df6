"""trialscout: find the clinical trials a person can join."""

__version__ = "0.1.0"
