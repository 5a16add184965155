"""Batches of photos for ``facelift reconstruct``: serial in this process or on a Ray cluster.

``jobs.py``: a photo (Job), what became of it (Outcome) and the worker that runs photos with one
engine loaded once; ``complete.py``: the completion marker behind ``--resume``; ``progress.py``:
the aggregated progress line, summary table and ``--report`` JSON; ``serial.py``: the batch in
this process; ``ray_pool.py``: the Ray actors (imports Ray only when used; ``pip install
.[cluster]``, docs/CLUSTER.md).
"""
