"""Registry-scale benchmarks (docs/scale.md): run them all with `trialscout bench run` or
`.venv/bin/python bench/scale/run.py`."""
