"""`make bench`: how fast and how lean the daily job is, against the physical floor.

Run as `python -m bench` from the repository root. Every figure comes from this machine and is
written to bench/out/latest.md and latest.json (`make bench-record`: bench/results/):

- end to end and floor, measured the same way: a synthetic report day (the simulator's
  for_rows knob, fetched once over loopback with the real FireworksClient) run by the daily job
  in a fresh process, against json.loads of the same bodies and of the 30 archived days the job
  reads back, in a fresh process too; best of N, peak RSS; for 1k, 10k and 100k rows, and as a
  scaling curve for 10k, 100k, 300k and 1M rows (end to end only);
- stages: for 1k, 10k and 100k rows, each stage timed on the recorded bytes in-process (best
  of N) with its tracemalloc peak, for where the time goes;
- cold start: `python -X importtime` of the Lambda handler module next to boto3 alone;
- requests: the simulator's request log for a daily run, a first run and a 365-day backfill,
  and a daily run's wall time at 300 ms of simulated latency;
- artifact: the built function and layer, zipped and unzipped, against Lambda's limits.
"""
