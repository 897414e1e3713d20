"""`stance report`: a self-contained picture of a scored file (stance over time, by group, with the sentences behind each bar)."""
