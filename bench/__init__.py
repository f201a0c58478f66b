"""`make bench`: how fast and how lean the daily job is, against the physical floor.

Run as `python -m bench` from the repository root. Every figure comes from this machine and is
written to bench/results/latest.md and latest.json:

- stages: one synthetic report day of 1k, 10k and 100k usage rows (the simulator's for_rows
  knob), fetched once over loopback with the real FireworksClient, then each stage timed on the
  recorded bytes in-process (best of N) with its tracemalloc peak; end to end in a fresh
  process for its peak RSS; the floor is json.loads of the same bodies;
- cold start: `python -X importtime` of the Lambda handler module next to boto3 alone;
- requests: the simulator's request log for a daily run, a first run and a 365-day backfill,
  and a daily run's wall time at 300 ms of simulated latency;
- artifact: the built function and layer, zipped and unzipped, against Lambda's limits.
"""
