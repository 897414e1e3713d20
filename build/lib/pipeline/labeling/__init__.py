"""Weak supervision: labeling functions, their aggregation and their analysis."""
