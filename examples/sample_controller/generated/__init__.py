"""Packages generated from the example's CRD (``crd.yaml``); nothing here is edited by hand.

``scripts/generated.py write`` regenerates them, ``scripts/generated.py check`` (CI) fails when
they are stale. This file itself is written by hand: it only makes the folder a package.
"""
