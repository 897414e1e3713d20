"""Stance classifiers behind one interface, saved as self-describing bundles.

A bundle is a folder with ``bundle.json`` (``kind``, ``labels``, settings) and the kind's
own files; :func:`load_bundle` reads any of them, and the MLflow pyfunc wrapper serves
any of them the same way.
"""
