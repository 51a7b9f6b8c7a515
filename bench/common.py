"""What the bench scripts share: the options setup/bench passes to each (-c CONF -d DB), percentiles.

Imported as ``bench.common``: setup/bench puts the repository on PYTHONPATH.
"""

import argparse


def argument_parser(doc):
    """An argument parser described by the first line of the script's docstring, with -c and -d."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("-c", "--config", required=True, help="Odoo configuration file")
    parser.add_argument("-d", "--database", required=True, help="database with every addon installed")
    return parser


def percentile(values, fraction):
    """The value below which ``fraction`` (0..1) of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
