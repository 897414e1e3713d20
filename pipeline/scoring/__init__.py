"""`stance score`: streaming batch scoring of any article or sentence file with a logged model.

- ``run``: ``score_file``, the entry point (options, validation, the chunk loop).
- ``formats``: the one table from file suffix to reader and writer.
- ``readers`` / ``output``: streamed input chunks; the output as it grows.
- ``checkpoint``, ``provenance``: resuming an interrupted run; what produced a file.
- ``workers``, ``progress``: scoring on every core; the progress bar.
- ``articles``, ``explain``: one row per article; the ``evidence`` column.
- ``spark``: the same scoring on Apache Spark.
"""
