"""Tools of the checkout, run through `python launch.py COMMAND`: the benchmark and the gallery."""
