"""An in-repo Fireworks billing API: billingUsage, billing/summary and usageCosts:query.

No live Fireworks account is reachable, so the product is developed, demoed, tested and
benchmarked against this. It follows shared/reference/fireworks-billing-api.md and the OpenAPI
subset (tests/contract/fireworks-billing-openapi.yaml). Usage:

    with run_simulator(SimulatorConfig(spike_day=day, new_key_day=day)) as sim:
        httpx.get(f"{sim.base_url}/v1/accounts/acme-ai/billingUsage", ...)
    SimulatedAccount(config).billed_total(day, tz)   # the ground truth, without HTTP
    run_simulator(config, more=[SimulatorConfig(account_id="acme-labs", api_key="fw_labs")])
                                                      # several accounts, each its own key and data

The synthetic account (catalog.py) is deterministic from the seed; usage is closed-form per
15-minute slot of the home timezone's days (account.py), so any local day of any timezone,
DST days included, is exact and additive; dollars come from the simulator's own price book
(prices.py) as exact nanos, so every view of the same day agrees to the nano. usage.py,
summary.py and costs.py shape the three responses, wire.py the shared request parsing, errors
and Money, server.py the HTTP side (auth, latency, faults, request log).

Readings of points the reference leaves [open] or unsaid (the product must tolerate others):
- Errors: every refusal carries google.rpc.Status {"code", "message", "details": []};
  401 code 16, 403 code 7, 404 code 5 (unknown account or path; the path takes the bare account
  id only), 400 code 3, 429 code 8 with Retry-After, 500 code 13, 503 code 14.
- Auth: config.api_key is an account administrator (acting as the first key, prod-search-1,
  for scope SELF); readonly_api_key (the second key) may read
  billingUsage and billing/summary, and usageCosts:query with scope SELF only.
- billingUsage returns only the local days (in `timezone`, default UTC) lying wholly inside
  [startTime, endTime); a day the range cuts is left out, not clipped. Bucket instants are UTC Z.
- billingUsage groupBy: unknown dimensions are a 400; `team`, `project`, `environment` are
  accepted beside `annotations.team` etc., and `group` keys echo the dimension as requested.
  A dimension that does not apply to a stream is dropped for it; if none applies, that stream
  is summed per day with no `group`. Unknown values (usage with no key) are "" in `group`
  (proto3 JSON prints every map entry). Rows are split by usageType as well, and come in a
  stable order (day, then the account's own stream order), not sorted.
- billingUsage fields: modelName/apiKeyId/deploymentId/acceleratorType/baseModel/placement/jobId
  are filled only when the grouping determines them. cachedPromptTokens/uncachedPromptTokens
  appear only when some prompt tokens were cached (older-looking rows otherwise); promptTokens
  is cached + uncached. costNanoUsd is never sent. audioInputSeconds is a whole JSON number.
  filter[...] is accepted and ignored (newer docs: the gateway does not apply it yet).
- usageType values: TEXT_COMPLETION_INFERENCE_USAGE (batch included), AUDIO_INFERENCE_USAGE,
  DEDICATED_DEPLOYMENT_USAGE, TRAINING_USAGE. Training rows: jobId, jobType, baseModel,
  acceleratorType, acceleratorSeconds, startTime, endTime, usageType, group.
- billing/summary: the literal date part of startTime/endTime counts, end date excluded. Its
  days are calendar days in the optional `timezone` (default UTC): the [open] reading chosen so
  a report day in any zone has its own billed total. No range cap is documented; 366 days here.
- Line items: "Text Completion" by "model" (catalog models, short id) or "model_bucket" (the
  account's fine-tuned models, by size tier: "<4B", "4B-16B", "16B+", "MoE 0B-56B",
  "MoE 56.1B-176B"); batch as separate items with is_batch=true at 50%. quantity is millions of
  tokens, unitAmount the $ per 1M tokens (blended over input/cached/output and rounded to the
  nano where those differ; totalCost is exact). "Audio Transcription" (quantity minutes),
  "Dedicated Deployment" by "deployment" with secondary "accelerator_type" (GPU-hours,
  $ per GPU-hour), "Fine-Tuning" by "job_id" (GPU-hours), and "Embeddings" / "Image Generation"
  (no usage rows anywhere; older items without `series`). `series` is the usageType.
- usageCosts:query covers serverless text completion only; the range is clipped exactly to
  [startTime, endTime); DAY/HOUR buckets are local days/hours of the body's `timezone` (an
  addition; default UTC) and dimensions.startTime is the bucket's (unclipped) start. Usage with
  no key is apiKeyId/user "unattributed" with unattributedDimensions listing them. Omitted scope
  means ACCOUNT; no groupBy gives one row for the range. pageSize 0/absent = 100, max 1000;
  pageToken is opaque and bound to the query. evaluationTime is the range's end (no clock:
  the same config gives the same bytes). The 100-days-back limit is not simulated.
- Special days are home_timezone days: new_key_day (None: the 15th of every month) is the
  first day of the newcomer key; the quiet key stops two days before it (None: from the 13th);
  on spike_day team "ads"'s costliest key × model stream runs at spike_multiplier (3) times
  its volume; late_batch_day's batch usage has not arrived yet (every API leaves it out, as
  with usage metered late). Weekends are ~half of weekdays; volume grows 0.1% a day.
  scenario.py arranges these into the demo's story.
"""

from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.config import Fault, SimulatorConfig
from fwcost.simulator.server import RecordedRequest, RunningSimulator, run_simulator

__all__ = [
    "Fault",
    "RecordedRequest",
    "RunningSimulator",
    "SimulatedAccount",
    "SimulatorConfig",
    "run_simulator",
]
